import type { NumberWindow } from '../ring-buffer';

/** A point forecast with its band; all three in the metric's unit, clamped to [0, capacity]. */
export interface Forecast {
  /** The expected value. */
  value: number;
  /** The pessimistic-low edge of the band (`value` + a low quantile of recent residuals). */
  lower: number;
  /** The pessimistic-high edge of the band; the scheduler plans on this one for usage. */
  upper: number;
}

/**
 * An online forecaster for one metric: feed it samples in time order with `update`, ask it for the
 * value `horizonSeconds` ahead with `forecast`. Pure computation: time is passed in, never read.
 */
export interface Forecaster {
  /** The model's name, e.g. `holt`. */
  readonly name: string;
  /**
   * Adds a sample. Samples not later than the previous one, and non-finite values, are ignored.
   * @param t - sample time, epoch ms
   * @param value - the metric's value
   */
  update(t: number, value: number): void;
  /**
   * Forecasts `horizonSeconds` after the latest sample.
   * @param horizonSeconds - 1–10 s (values are rounded to whole sample steps and capped at the maximum)
   * @returns the forecast, or `null` before the first sample
   */
  forecast(horizonSeconds: number): Forecast | null;
}

/**
 * The point-prediction core of a model, over sample *steps* (not seconds). The banded wrapper
 * (`BandedForecaster`) owns the window, converts seconds to steps, tracks residuals and clamps.
 */
export interface PointModel {
  /** The model's name. */
  readonly name: string;
  /** Called after `value` was appended to `window` (newest last). */
  update(value: number, window: NumberWindow): void;
  /**
   * The predicted value `steps` samples after the newest one (steps ≥ 1), unclamped.
   * @returns `null` only when no sample has been seen
   */
  predict(steps: number, window: NumberWindow): number | null;
}
