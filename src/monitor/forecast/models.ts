import { BandedForecaster, type ForecasterOptions } from './banded';
import { EnsembleModel } from './ensemble';
import { EwmaModel } from './ewma';
import { HoltModel } from './holt';
import { LastValueModel } from './last-value';
import { LinearTrendModel } from './linear-trend';
import { MedianModel } from './median';
import { SeasonalModel } from './seasonal';
import type { PointModel } from './types';
import { InvalidMonitorOptionError } from '../errors';

/** Every model the forecaster offers, baselines first. */
export const MODEL_NAMES = [
  'lastValue',
  'ewma',
  'median',
  'linearTrend',
  'holt',
  'seasonal',
  'ensemble',
] as const;

/** A model's name. */
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * The model the scheduler uses unless told otherwise, chosen from the eval on recorded traces (see
 * BENCHMARKS.md, "Monitor and forecaster").
 */
export const DEFAULT_MODEL: ModelName = 'ensemble';

const BASE: Record<Exclude<ModelName, 'ensemble'>, () => PointModel> = {
  lastValue: () => new LastValueModel(),
  ewma: () => new EwmaModel(),
  median: () => new MedianModel(),
  linearTrend: () => new LinearTrendModel(),
  holt: () => new HoltModel(),
  seasonal: () => new SeasonalModel(),
};

/** The models the ensemble combines (its first tier). */
export const ENSEMBLE_MEMBERS = ['ewma', 'median', 'linearTrend', 'holt', 'seasonal', 'lastValue'] as const;

/** Whether `name` is one of {@link MODEL_NAMES}. */
export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/**
 * A fresh forecaster for one metric.
 * @param name - the model; @default DEFAULT_MODEL
 * @param options - window, band and clamp options shared by every model (the ensemble passes them to its members)
 * @throws InvalidMonitorOptionError for an unknown model name or an out-of-range option
 */
export function createForecaster(
  name: string = DEFAULT_MODEL,
  options: ForecasterOptions = {},
): BandedForecaster {
  if (!isModelName(name)) {
    throw new InvalidMonitorOptionError('model', name, `must be one of ${MODEL_NAMES.join(', ')}`);
  }
  if (name === 'ensemble') {
    // Two tiers. First, a weighted median of every model (weights 1/recent-MAE², robust to members
    // that carry a spike forward). A median sides with the majority, and most members are "level"
    // models, so it under-uses a trend or a period; hence, per horizon, the top tier picks whichever
    // of {that combination, linear trend, seasonal, last value} has had the lowest recent MAE. Last
    // value is last, so it is also what a cold start trusts.
    const members = ENSEMBLE_MEMBERS.map((m) => new BandedForecaster(BASE[m](), options));
    const combination = new BandedForecaster(
      new EnsembleModel(members, { combine: 'median', power: 2 }),
      options,
    );
    const candidates = [
      combination,
      new BandedForecaster(BASE.linearTrend(), options),
      new BandedForecaster(BASE.seasonal(), options),
      new BandedForecaster(BASE.lastValue(), options),
    ];
    return new BandedForecaster(
      new EnsembleModel(candidates, { combine: 'best', name: 'ensemble' }),
      options,
    );
  }
  return new BandedForecaster(BASE[name](), options);
}
