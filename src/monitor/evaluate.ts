import { createForecaster, DEFAULT_MODEL, MODEL_NAMES, type ModelName } from './forecast/models';
import type { ForecasterOptions } from './forecast/banded';
import { traceMetrics, type Trace } from './trace';
import type { MetricName } from './types';

/** Error statistics of one model on one metric at one horizon, in the metric's unit. */
export interface ErrorStats {
  /** Mean absolute error. */
  mae: number;
  /** Root mean squared error. */
  rmse: number;
  /** 90th percentile of the absolute error (nearest rank). */
  p90: number;
  /** Share of targets inside the forecast's [lower, upper] band, 0–1. */
  coverage: number;
  /** Number of scored forecasts. */
  n: number;
}

/** Per model, per metric, per horizon (seconds, as a string key) statistics. */
export type ModelScores = Partial<Record<MetricName, Record<string, ErrorStats>>>;

/** The result of replaying one trace through the models. */
export interface TraceEvaluation {
  /** The default model's name. */
  default: ModelName;
  /** Metrics evaluated (those present in the trace). */
  metrics: MetricName[];
  /** Horizons scored, seconds. */
  horizons: number[];
  /** Scores by model name. */
  models: Partial<Record<ModelName, ModelScores>>;
}

/** Options for {@link evaluateTrace}. */
export interface EvaluateOptions {
  /** Models to replay. @default MODEL_NAMES (all, including lastValue) */
  models?: readonly ModelName[];
  /** Horizons to score, seconds (1–10). @default [5, 10] */
  horizons?: readonly number[];
  /** Options passed to every forecaster (capacity is taken from the trace when present). */
  forecaster?: ForecasterOptions;
}

function stats(errors: number[], inBand: number): ErrorStats {
  const n = errors.length;
  if (n === 0) return { mae: Number.NaN, rmse: Number.NaN, p90: Number.NaN, coverage: Number.NaN, n: 0 };
  let abs = 0;
  let sq = 0;
  for (const e of errors) {
    abs += Math.abs(e);
    sq += e * e;
  }
  const sorted = errors.map(Math.abs).sort((a, b) => a - b);
  const p90 = sorted[Math.min(n - 1, Math.max(0, Math.ceil(0.9 * n) - 1))] as number;
  return { mae: abs / n, rmse: Math.sqrt(sq / n), p90, coverage: inBand / n, n };
}

/**
 * Replays `trace` through each model, metric by metric: after each sample the model forecasts each
 * horizon, and the forecast is scored against the sample nearest to `t + horizon` (within half an
 * interval; forecasts with no such sample are not scored). Pure and deterministic.
 */
export function evaluateTrace(trace: Trace, options: EvaluateOptions = {}): TraceEvaluation {
  const models = options.models ?? MODEL_NAMES;
  const horizons = [...(options.horizons ?? [5, 10])];
  const metrics = traceMetrics(trace);
  const tolerance = trace.intervalMs / 2;
  const result: TraceEvaluation = { default: DEFAULT_MODEL, metrics, horizons, models: {} };
  for (const model of models) {
    const scores: ModelScores = {};
    for (const metric of metrics) {
      const series: Array<{ t: number; v: number }> = [];
      for (const s of trace.samples) {
        const v = s[metric];
        if (v !== undefined) series.push({ t: s.t, v });
      }
      const capacity = trace.capacity?.[metric];
      const f = createForecaster(model, {
        intervalMs: trace.intervalMs,
        ...options.forecaster,
        ...(capacity === undefined ? {} : { capacity }),
      });
      const errors = horizons.map(() => [] as number[]);
      const inBand = horizons.map(() => 0);
      const cursor = horizons.map(() => 0);
      series.forEach(({ t, v }, i) => {
        f.update(t, v);
        horizons.forEach((h, k) => {
          const target = t + h * 1000;
          let j = Math.max(cursor[k] as number, i + 1);
          while (j < series.length && (series[j] as { t: number }).t < target - tolerance) j++;
          cursor[k] = j;
          const actual = series[j];
          if (actual === undefined || Math.abs(actual.t - target) > tolerance) return;
          const fc = f.forecast(h);
          if (fc === null) return;
          (errors[k] as number[]).push(actual.v - fc.value);
          if (actual.v >= fc.lower - 1e-9 && actual.v <= fc.upper + 1e-9)
            inBand[k] = (inBand[k] as number) + 1;
        });
      });
      const byHorizon: Record<string, ErrorStats> = {};
      horizons.forEach((h, k) => {
        byHorizon[String(h)] = stats(errors[k] as number[], inBand[k] as number);
      });
      scores[metric] = byHorizon;
    }
    result.models[model] = scores;
  }
  return result;
}

/**
 * The JSON shape printed by `qm monitor eval --json` for one file:
 * `{ file, default, models: { model: { metric: { "5": { mae, rmse, p90 }, … } } } }`.
 */
export function evaluationToJson(
  file: string,
  evaluation: TraceEvaluation,
): {
  file: string;
  default: string;
  models: Record<string, Record<string, Record<string, { mae: number; rmse: number; p90: number }>>>;
} {
  const models: Record<
    string,
    Record<string, Record<string, { mae: number; rmse: number; p90: number }>>
  > = {};
  for (const [model, scores] of Object.entries(evaluation.models)) {
    const perMetric: Record<string, Record<string, { mae: number; rmse: number; p90: number }>> = {};
    for (const [metric, byH] of Object.entries(scores ?? {})) {
      const perH: Record<string, { mae: number; rmse: number; p90: number }> = {};
      for (const [h, s] of Object.entries(byH ?? {})) perH[h] = { mae: s.mae, rmse: s.rmse, p90: s.p90 };
      perMetric[metric] = perH;
    }
    models[model] = perMetric;
  }
  return { file, default: evaluation.default, models };
}

/**
 * `model`'s MAE divided by `lastValue`'s for `metric` at horizon `h`.
 * @returns `null` when either is missing; `1` when both are zero; `Infinity` when only the baseline is zero
 */
export function maeRatio(
  evaluation: TraceEvaluation,
  model: ModelName,
  metric: MetricName,
  h: number,
): number | null {
  const m = evaluation.models[model]?.[metric]?.[String(h)]?.mae;
  const base = evaluation.models.lastValue?.[metric]?.[String(h)]?.mae;
  if (m === undefined || base === undefined || Number.isNaN(m) || Number.isNaN(base)) return null;
  if (base === 0) return m === 0 ? 1 : Infinity;
  return m / base;
}
