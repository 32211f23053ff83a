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

/** Forecasts per metric at one horizon. */
export type MetricForecasts = Partial<Record<MetricName, Forecast>>;

/**
 * One forecaster per metric for a whole node: feed it the sampler's samples, ask for every metric's
 * forecast at a horizon. Metrics a sample lacks (`null`) are skipped for that sample.
 */
export class NodeForecaster {
  private readonly forecasters = new Map<MetricName, Forecaster>();
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
}

/** A node's usage and forecasts, as the worker publishes it to the ledger's node row. */
export interface NodeSnapshot {
  /** Sample time, epoch ms. */
  at: number;
  /** Current usage and capacity (units as in {@link UsageSample}; `null` = not measured). */
  usage: Omit<UsageSample, 'at' | 'notes'>;
  /** Forecasts keyed by horizon in seconds (`"5"`, `"10"`), then metric. */
  forecast: Record<string, MetricForecasts>;
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
  const forecast: Record<string, MetricForecasts> = {};
  for (const h of horizons) forecast[String(h)] = forecaster.forecast(h);
  const { at, notes: _notes, ...usage } = sample;
  return {
    at,
    usage,
    forecast,
  };
}
