import { InvalidMonitorOptionError } from '../errors';
import type { NumberWindow } from '../ring-buffer';
import type { PointModel } from './types';

/** Options for {@link TheilSenModel}. */
export interface TheilSenOptions {
  /** How many of the newest samples the slope is estimated from (≥ 3). @default 30 */
  fitPoints?: number;
}

/**
 * Robust trend: the Theil–Sen slope (median of the slopes between every pair of the newest
 * `fitPoints` samples) continued from the newest sample. A least-squares line over the same points
 * is dragged by one level shift or spike for as long as it stays in the fit; the median of pairwise
 * slopes ignores them while they are a minority of the pairs, and anchoring at the newest sample
 * (not the fitted intercept) keeps a shift's new level. Cost: O(n² log n) per update (n = 30:
 * 435 slopes).
 */
export class TheilSenModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'theilSen';
  private readonly fitPoints: number;
  private readonly slopes: Float64Array;
  private slope = 0;
  private level: number | null = null;

  /** @throws InvalidMonitorOptionError when `fitPoints` is not an integer ≥ 3 */
  constructor(options: TheilSenOptions = {}) {
    this.fitPoints = options.fitPoints ?? 30;
    if (!Number.isInteger(this.fitPoints) || this.fitPoints < 3) {
      throw new InvalidMonitorOptionError('fitPoints', this.fitPoints, 'must be an integer >= 3');
    }
    this.slopes = new Float64Array((this.fitPoints * (this.fitPoints - 1)) / 2);
  }

  /** @inheritDoc */
  update(_value: number, window: NumberWindow): void {
    this.level = window.last() ?? null;
    const n = Math.min(this.fitPoints, window.length);
    if (n < 3) {
      this.slope = 0;
      return;
    }
    const offset = window.length - n;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const yi = window.get(offset + i);
      for (let j = i + 1; j < n; j++) this.slopes[k++] = (window.get(offset + j) - yi) / (j - i);
    }
    const sorted = this.slopes.subarray(0, k).sort();
    const mid = k >> 1;
    this.slope =
      k % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }

  /** @inheritDoc */
  predict(steps: number): number | null {
    return this.level === null ? null : this.level + this.slope * steps;
  }
}
