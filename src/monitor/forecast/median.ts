import { InvalidMonitorOptionError } from '../errors';
import type { NumberWindow } from '../ring-buffer';
import type { PointModel } from './types';

/** Options for {@link MedianModel}. */
export interface MedianOptions {
  /** How many of the newest samples the median is taken over (≥ 1). @default 15 */
  points?: number;
}

/**
 * Robust baseline: the median of the newest `points` samples, for every horizon. On spiky series
 * (disk and network bursts over a quiet floor) it does not carry a one-second spike forward the way
 * last-value does; the median minimises absolute error for a stationary series.
 */
export class MedianModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'median';
  private readonly points: number;
  private value: number | null = null;

  /** @throws InvalidMonitorOptionError when `points` is not an integer ≥ 1 */
  constructor(options: MedianOptions = {}) {
    this.points = options.points ?? 15;
    if (!Number.isInteger(this.points) || this.points < 1) {
      throw new InvalidMonitorOptionError('points', this.points, 'must be an integer >= 1');
    }
  }

  /** Recomputes the median of the newest `points` values. */
  update(_value: number, window: NumberWindow): void {
    const n = Math.min(this.points, window.length);
    const xs = new Array<number>(n);
    for (let i = 0; i < n; i++) xs[i] = window.get(window.length - n + i);
    xs.sort((a, b) => a - b);
    const mid = n >> 1;
    this.value = n % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
  }

  /** The current median (the same for every horizon), or `null` before any sample. */
  predict(): number | null {
    return this.value;
  }
}
