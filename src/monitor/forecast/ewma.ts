import { InvalidMonitorOptionError } from '../errors';
import type { PointModel } from './types';

/** Options for {@link EwmaModel}. */
export interface EwmaOptions {
  /** Smoothing factor in (0, 1]; higher follows the latest sample more closely. @default 0.3 */
  alpha?: number;
}

/** Baseline: exponentially weighted moving average; predicts the smoothed level for every horizon. */
export class EwmaModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'ewma';
  private readonly alpha: number;
  private level: number | null = null;

  /** @throws InvalidMonitorOptionError when `alpha` is not in (0, 1] */
  constructor(options: EwmaOptions = {}) {
    this.alpha = options.alpha ?? 0.3;
    if (!(this.alpha > 0 && this.alpha <= 1))
      throw new InvalidMonitorOptionError('alpha', this.alpha, 'must be in (0, 1]');
  }

  /** Folds `value` into the level. */
  update(value: number): void {
    this.level = this.level === null ? value : this.alpha * value + (1 - this.alpha) * this.level;
  }

  /** The current level (the same for every horizon), or `null` before any sample. */
  predict(): number | null {
    return this.level;
  }
}
