/**
 * Estimate accuracy per stage key (definition name + stage id): how far actual starts fell from the
 * scheduler's start estimates, and actual run times from the predicted ones — declared (`expectedSeconds`)
 * and learned from history — each kind on its own.
 */
import type { ExpectedSource } from '../execution/learned';
import type { ExecutionRecord } from '../execution/record';
import { cpuRate } from '../scheduling/runtime';
import { percentileSorted } from '../simulator/metrics';

/** Error statistics, seconds; error = actual − estimated (> 0: later or longer than estimated). */
export interface ErrorStats {
  /** Records counted. */
  readonly count: number;
  /** Mean |error|. */
  readonly meanAbsSeconds: number;
  /** Mean signed error. */
  readonly meanSeconds: number;
  /** 95th percentile of |error| (nearest rank). */
  readonly p95AbsSeconds: number;
}

/** The accuracy of one stage key. */
export interface AccuracyRow {
  /** `definitionName/stageId`. */
  readonly key: string;
  /** Definition name. */
  readonly definitionName: string;
  /** Stage id. */
  readonly stageId: string;
  /** Handlers seen for the key, sorted. */
  readonly handlers: readonly string[];
  /** Records of the key. */
  readonly records: number;
  /** Start-estimate error: `startedAt − estimatedStartAt`; `null` when no record had both. */
  readonly start: ErrorStats | null;
  /**
   * Run-time error of declared predictions (see {@link runTimeError}) over completed records whose prediction
   * was declared; `null` when none was.
   */
  readonly runTime: ErrorStats | null;
  /** The same over completed records whose prediction was learned from history; `null` when none was. */
  readonly learnedRunTime: ErrorStats | null;
}

/** A record's run-time prediction: seconds at `desired` and where they came from. */
export interface RunTimePrediction {
  /** Seconds at the desired allocation. */
  readonly seconds: number;
  /** Declared by the stage or learned from history. */
  readonly source: ExpectedSource;
}

/** Statistics of signed `errors` (seconds); `null` when empty. */
export function errorStats(errors: readonly number[]): ErrorStats | null {
  if (errors.length === 0) return null;
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    count: errors.length,
    meanAbsSeconds: sum(abs) / abs.length,
    meanSeconds: sum(errors) / errors.length,
    p95AbsSeconds: percentileSorted(abs, 95),
  };
}

/** The start-estimate error of one record, seconds, or `null` when it was not estimated or never started. */
export function startError(r: ExecutionRecord): number | null {
  if (r.estimatedStartAt === null || r.startedAt === null) return null;
  return (r.startedAt.getTime() - r.estimatedStartAt.getTime()) / 1000;
}

/**
 * The run time predicted for a record: its recorded prediction (`predictedSeconds`/`predictedSource`), else —
 * in a record written before predictions were recorded — its declared `expectedSeconds`; `null` when none.
 */
export function predictionOf(r: ExecutionRecord): RunTimePrediction | null {
  if (r.predictedSeconds != null && r.predictedSource != null)
    return { seconds: r.predictedSeconds, source: r.predictedSource };
  if (r.predictedSeconds == null && r.expectedSeconds !== null)
    return { seconds: r.expectedSeconds, source: 'declared' };
  return null;
}

/**
 * The run-time error of one record, seconds: `(endedAt − startedAt) − predicted ÷ cpuRate(granted, desired)`
 * (the prediction is at `desired`; a reduced grant stretches it, as the ledger's `qm_estimate_accuracy` view
 * counts it), or `null` unless it completed, started and had a prediction (of `source`, when given).
 */
export function runTimeError(r: ExecutionRecord, source?: ExpectedSource): number | null {
  if (r.outcome !== 'completed' || r.startedAt === null) return null;
  const p = predictionOf(r);
  if (p === null || (source !== undefined && p.source !== source)) return null;
  const rate = r.granted === null ? 1 : cpuRate(r.granted, r.desired);
  return (r.endedAt.getTime() - r.startedAt.getTime()) / 1000 - p.seconds / rate;
}

/**
 * Accuracy per stage key, sorted by key.
 * @returns one row per key present in `records`. Never throws.
 */
export function estimateAccuracy(records: readonly ExecutionRecord[]): AccuracyRow[] {
  const groups = new Map<string, ExecutionRecord[]>();
  for (const r of records) {
    const key = `${r.definitionName}/${r.stageId}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  return [...groups.keys()].sort().map((key) => {
    const list = groups.get(key) as ExecutionRecord[];
    const first = list[0] as ExecutionRecord;
    const starts = list.map(startError).filter((e): e is number => e !== null);
    const runs = (source: ExpectedSource): number[] =>
      list.map((r) => runTimeError(r, source)).filter((e): e is number => e !== null);
    return {
      key,
      definitionName: first.definitionName,
      stageId: first.stageId,
      handlers: [...new Set(list.map((r) => r.handler))].sort(),
      records: list.length,
      start: errorStats(starts),
      runTime: errorStats(runs('declared')),
      learnedRunTime: errorStats(runs('learned')),
    };
  });
}
