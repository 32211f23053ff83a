import { BandedForecaster, type ForecasterOptions } from './banded';
import { EnsembleModel } from './ensemble';
import { EwmaModel } from './ewma';
import { HoltModel } from './holt';
import { LastValueModel } from './last-value';
import { LinearTrendModel } from './linear-trend';
import { MedianModel } from './median';
import { SeasonalModel } from './seasonal';
import { TheilSenModel } from './theil-sen';
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
  'theilSen',
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
  theilSen: () => new TheilSenModel(),
};

/** The models the ensemble combines in its first tier (a weighted median). */
export const ENSEMBLE_MEMBERS = ['ewma', 'median', 'linearTrend', 'holt', 'seasonal', 'lastValue'] as const;

/**
 * The candidates the ensemble's top tier picks from per horizon, after the first tier's combination.
 * The last is what a cold start trusts.
 */
export const ENSEMBLE_CANDIDATES = ['theilSen', 'seasonal', 'ewma', 'lastValue'] as const;

/**
 * Half-life, in samples, of the discounted error the top tier selects by. Chosen on the five tuning
 * traces (BENCHMARKS.md): 20–30 with a margin of 0.1–0.15 score within noise of each other.
 */
export const ENSEMBLE_HALF_LIFE = 30;
/** Hysteresis of the top tier: a candidate must beat the incumbent's error by this share to replace it. */
export const ENSEMBLE_MARGIN = 0.15;

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
    // of {that combination, Theil–Sen trend, seasonal, EWMA, last value} has the lowest exponentially
    // discounted MAE (half-life ENSEMBLE_HALF_LIFE samples), switching only when a candidate beats
    // the incumbent by ENSEMBLE_MARGIN: on noise, equally good candidates then do not take turns on
    // lucky residuals (each switch costs until the errors catch up). Last value is last, so it is
    // also what a cold start trusts.
    const members = ENSEMBLE_MEMBERS.map((m) => new BandedForecaster(BASE[m](), options));
    const combination = new BandedForecaster(
      new EnsembleModel(members, { combine: 'median', power: 2 }),
      options,
    );
    const candidates = [
      combination,
      ...ENSEMBLE_CANDIDATES.map((m) => new BandedForecaster(BASE[m](), options)),
    ];
    return new BandedForecaster(
      new EnsembleModel(candidates, {
        combine: 'best',
        halfLife: ENSEMBLE_HALF_LIFE,
        margin: ENSEMBLE_MARGIN,
        name: 'ensemble',
      }),
      options,
    );
  }
  return new BandedForecaster(BASE[name](), options);
}
