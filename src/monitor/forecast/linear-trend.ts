import { SimpleLinearRegression } from 'ml-regression-simple-linear';
import { InvalidMonitorOptionError } from '../errors';
import type { NumberWindow } from '../ring-buffer';
import type { PointModel } from './types';

/** Options for {@link LinearTrendModel}. */
export interface LinearTrendOptions {
  /** How many of the newest samples the line is fitted to (≥ 2). @default 30 */
  fitPoints?: number;
}

/**
 * Least-squares line through the newest `fitPoints` samples (by step index), extrapolated
 * `steps` ahead. Uses ml-regression's `SimpleLinearRegression`. A perfect line is predicted exactly.
 */
export class LinearTrendModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'linearTrend';
  private readonly fitPoints: number;
  private slope = 0;
  private intercept = 0;
  private n = 0;

  /** @throws InvalidMonitorOptionError when `fitPoints` is not an integer ≥ 2 */
  constructor(options: LinearTrendOptions = {}) {
    this.fitPoints = options.fitPoints ?? 30;
    if (!Number.isInteger(this.fitPoints) || this.fitPoints < 2) {
      throw new InvalidMonitorOptionError('fitPoints', this.fitPoints, 'must be an integer >= 2');
    }
  }

  /** Refits the line on the newest `fitPoints` values of `window`. */
  update(_value: number, window: NumberWindow): void {
    const n = Math.min(this.fitPoints, window.length);
    this.n = n;
    if (n < 2) {
      this.slope = 0;
      this.intercept = window.last() ?? 0;
      return;
    }
    const x = new Array<number>(n);
    const y = new Array<number>(n);
    const offset = window.length - n;
    for (let i = 0; i < n; i++) {
      x[i] = i;
      y[i] = window.get(offset + i);
    }
    const fit = new SimpleLinearRegression(x, y);
    this.slope = fit.slope;
    this.intercept = fit.intercept;
  }

  /** The line's value `steps` after the newest sample, or `null` before any sample. */
  predict(steps: number): number | null {
    if (this.n === 0) return null;
    return this.intercept + this.slope * (this.n - 1 + steps);
  }
}
