import type { ForecasterOptions } from './forecast/banded';
import { createForecaster, DEFAULT_MODEL, type ModelName } from './forecast/models';
import type { Forecast, Forecaster } from './forecast/types';
import { METRIC_NAMES, type MetricName, type UsageSample } from './types';

/** Options for {@link NodeForecaster}. */
export interface NodeForecasterOptions {
  /** Model used for every metric. @default DEFAULT_MODEL */
  model?: ModelName;
  /** Options for each metric's forecaster; capacity is taken from samples (cores, memory total). */
  forecaster?: Omit<ForecasterOptions, 'capacity'>;
}

/** One GPU's forecasts at one horizon; a field the driver does not report is absent. */
export interface GpuForecast {
  /** Device index as `nvidia-smi` numbers it. */
  index: number;
  /** Utilisation, percent 0–100. */
  utilizationPct?: Forecast;
  /** Memory in use, MiB (clamped to the device's total when known). */
  memoryUsedMb?: Forecast;
}

/** Forecasts per metric at one horizon. */
export type MetricForecasts = Partial<Record<MetricName, Forecast>>;

/**
 * What the worker publishes per horizon: the metrics' forecasts plus `gpus` (by device) when the
 * newest sample had GPUs; on a node without GPUs the key is absent, never an empty or zero forecast.
 */
export type PublishedForecasts = MetricForecasts & { gpus?: GpuForecast[] };

/** A GPU's two forecasters, created on first sight of each field. */
interface GpuForecasters {
  utilizationPct?: Forecaster;
  memoryUsedMb?: Forecaster;
}

/**
 * One forecaster per metric for a whole node: feed it the sampler's samples, ask for every metric's
 * forecast at a horizon. Metrics a sample lacks (`null`) are skipped for that sample. GPUs get the
 * same model per device for utilisation and memory in use; only the devices in the newest sample are
 * forecast (a node whose GPUs vanish, or never had any, publishes no GPU forecast).
 */
export class NodeForecaster {
  private readonly forecasters = new Map<MetricName, Forecaster>();
  private readonly gpuForecasters = new Map<number, GpuForecasters>();
  /** Device indexes in the newest sample, in its order (empty: no GPU reported). */
  private gpusNow: number[] = [];
  private readonly model: ModelName;
  private readonly options: Omit<ForecasterOptions, 'capacity'>;

  /** @throws InvalidMonitorOptionError for an unknown model */
  constructor(options: NodeForecasterOptions = {}) {
    this.model = options.model ?? DEFAULT_MODEL;
    this.options = options.forecaster ?? {};
    createForecaster(this.model, this.options); // validate eagerly
  }

  /** Feeds one sample to every metric's forecaster. */
  update(sample: UsageSample): void {
    for (const metric of METRIC_NAMES) {
      const v = sample[metric];
      if (v === null) continue;
      let f = this.forecasters.get(metric);
      if (f === undefined) {
        const capacity =
          metric === 'cpu' ? sample.cpuCores : metric === 'memoryMb' ? sample.memoryTotalMb : null;
        f = createForecaster(this.model, { ...this.options, ...(capacity === null ? {} : { capacity }) });
        this.forecasters.set(metric, f);
      }
      f.update(sample.at, v);
    }
    this.gpusNow = [];
    for (const gpu of sample.gpus ?? []) {
      this.gpusNow.push(gpu.index);
      let g = this.gpuForecasters.get(gpu.index);
      if (g === undefined) this.gpuForecasters.set(gpu.index, (g = {}));
      if (gpu.utilizationPct !== null) {
        g.utilizationPct ??= createForecaster(this.model, { ...this.options, capacity: 100 });
        g.utilizationPct.update(sample.at, gpu.utilizationPct);
      }
      if (gpu.memoryUsedMb !== null) {
        g.memoryUsedMb ??= createForecaster(this.model, {
          ...this.options,
          ...(gpu.memoryTotalMb !== null && gpu.memoryTotalMb > 0 ? { capacity: gpu.memoryTotalMb } : {}),
        });
        g.memoryUsedMb.update(sample.at, gpu.memoryUsedMb);
      }
    }
  }

  /** Every known metric's forecast `horizonSeconds` ahead (1–10). */
  forecast(horizonSeconds: number): MetricForecasts {
    const out: MetricForecasts = {};
    for (const [metric, f] of this.forecasters) {
      const fc = f.forecast(horizonSeconds);
      if (fc !== null) out[metric] = fc;
    }
    return out;
  }

  /**
   * Each GPU's forecast `horizonSeconds` ahead (1–10), for the devices in the newest sample.
   * @returns `null` when the newest sample had no GPU (none present, or `nvidia-smi` missing)
   */
  forecastGpus(horizonSeconds: number): GpuForecast[] | null {
    const gpus: GpuForecast[] = [];
    for (const index of this.gpusNow) {
      const g = this.gpuForecasters.get(index);
      const util = g?.utilizationPct?.forecast(horizonSeconds) ?? null;
      const mem = g?.memoryUsedMb?.forecast(horizonSeconds) ?? null;
      if (util === null && mem === null) continue;
      gpus.push({
        index,
        ...(util === null ? {} : { utilizationPct: util }),
        ...(mem === null ? {} : { memoryUsedMb: mem }),
      });
    }
    return gpus.length > 0 ? gpus : null;
  }
}

/** A node's usage and forecasts, as the worker publishes it to the ledger's node row. */
export interface NodeSnapshot {
  /** Sample time, epoch ms. */
  at: number;
  /** Current usage and capacity (units as in {@link UsageSample}; `null` = not measured). */
  usage: Omit<UsageSample, 'at' | 'notes'>;
  /** Forecasts keyed by horizon in seconds (`"5"`, `"10"`), then metric (and `gpus` when present). */
  forecast: Record<string, PublishedForecasts>;
}

/**
 * Builds the snapshot the worker publishes each interval: `sample`'s usage plus `forecaster`'s
 * forecasts at `horizons`. Call after `forecaster.update(sample)`.
 * @param horizons - seconds ahead; @default [5, 10]
 */
export function snapshotForLedger(
  sample: UsageSample,
  forecaster: NodeForecaster,
  horizons: readonly number[] = [5, 10],
): NodeSnapshot {
  const forecast: Record<string, PublishedForecasts> = {};
  for (const h of horizons) {
    const gpus = forecaster.forecastGpus(h);
    forecast[String(h)] = gpus === null ? forecaster.forecast(h) : { ...forecaster.forecast(h), gpus };
  }
  const { at, notes: _notes, ...usage } = sample;
  return {
    at,
    usage,
    forecast,
  };
}
