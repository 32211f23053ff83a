import { InvalidMonitorOptionError } from '../errors';
import type { NumberWindow } from '../ring-buffer';
import type { PointModel } from './types';

/** Options for {@link SeasonalModel}. */
export interface SeasonalOptions {
  /** Shortest period considered, samples (≥ 2). @default 4 */
  minPeriod?: number;
  /** Autocorrelation a lag needs to count as a period, in (0, 1). @default 0.4 */
  minAutocorrelation?: number;
  /** Re-detect the period every this many updates (detection is O(window²/2)). @default 5 */
  redetectEvery?: number;
  /** Average this many past cycles for each prediction (noise reduction). @default 3 */
  cycles?: number;
}

/**
 * Finds the dominant period of `values` by autocorrelation: the smallest lag in
 * `[minPeriod, length/2]` that is a local maximum of the autocorrelation function and reaches at least
 * 90 % of its best value and `minAutocorrelation`.
 * @returns the period in samples, or `null` when none qualifies (or the series is constant)
 */
export function detectPeriod(
  values: ArrayLike<number>,
  minPeriod = 4,
  minAutocorrelation = 0.4,
): number | null {
  const n = values.length;
  const maxLag = Math.floor(n / 2);
  if (maxLag < minPeriod) return null;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((values[i] as number) - mean) ** 2;
  if (variance <= 1e-12) return null;
  const acf = new Float64Array(maxLag + 2);
  for (let lag = 1; lag <= Math.min(maxLag + 1, n - 1); lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += ((values[i] as number) - mean) * ((values[i - lag] as number) - mean);
    // Normalise per overlapping pair so long lags are not penalised for having fewer terms.
    acf[lag] = s / (n - lag) / (variance / n);
  }
  let best = -Infinity;
  for (let lag = minPeriod; lag <= maxLag; lag++) best = Math.max(best, acf[lag] as number);
  if (best < minAutocorrelation) return null;
  for (let lag = minPeriod; lag <= maxLag; lag++) {
    const r = acf[lag] as number;
    const isPeak = r >= (acf[lag - 1] as number) && r >= (acf[lag + 1] ?? -Infinity);
    if (isPeak && r >= 0.9 * best && r >= minAutocorrelation) return lag;
  }
  return null;
}

/**
 * Seasonal-naive over a period found by autocorrelation: predicts the value one period (or whole
 * periods) before the target, averaged over up to `cycles` past cycles. Without a detectable period
 * it falls back to the last value. A clean periodic series is predicted exactly once two cycles are
 * in the window.
 */
export class SeasonalModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'seasonal';
  private readonly minPeriod: number;
  private readonly minAutocorrelation: number;
  private readonly redetectEvery: number;
  private readonly cycles: number;
  private updates = 0;
  private periodSteps: number | null = null;

  /** @throws InvalidMonitorOptionError when an option is out of range */
  constructor(options: SeasonalOptions = {}) {
    this.minPeriod = options.minPeriod ?? 4;
    this.minAutocorrelation = options.minAutocorrelation ?? 0.4;
    this.redetectEvery = options.redetectEvery ?? 5;
    this.cycles = options.cycles ?? 3;
    if (!Number.isInteger(this.minPeriod) || this.minPeriod < 2) {
      throw new InvalidMonitorOptionError('minPeriod', this.minPeriod, 'must be an integer >= 2');
    }
    if (!(this.minAutocorrelation > 0 && this.minAutocorrelation < 1)) {
      throw new InvalidMonitorOptionError('minAutocorrelation', this.minAutocorrelation, 'must be in (0, 1)');
    }
    if (!Number.isInteger(this.redetectEvery) || this.redetectEvery < 1) {
      throw new InvalidMonitorOptionError('redetectEvery', this.redetectEvery, 'must be an integer >= 1');
    }
    if (!Number.isInteger(this.cycles) || this.cycles < 1) {
      throw new InvalidMonitorOptionError('cycles', this.cycles, 'must be an integer >= 1');
    }
  }

  /** The detected period in samples, or `null`. */
  get period(): number | null {
    return this.periodSteps;
  }

  /** Re-detects the period every `redetectEvery` updates. */
  update(_value: number, window: NumberWindow): void {
    if (this.updates++ % this.redetectEvery !== 0) return;
    const values = new Float64Array(window.length);
    for (let i = 0; i < window.length; i++) values[i] = window.get(i);
    this.periodSteps = detectPeriod(values, this.minPeriod, this.minAutocorrelation);
  }

  /** The seasonal prediction `steps` ahead (last value without a period), or `null` when empty. */
  predict(steps: number, window: NumberWindow): number | null {
    const n = window.length;
    const last = window.last();
    if (last === undefined) return null;
    const p = this.periodSteps;
    if (p === null) return last;
    // Target index is n-1+steps; step back whole periods until inside the window.
    let sum = 0;
    let count = 0;
    for (let j = Math.ceil(steps / p); count < this.cycles; j++) {
      const i = n - 1 + steps - j * p;
      if (i < 0) break;
      sum += window.get(i);
      count++;
    }
    return count === 0 ? last : sum / count;
  }
}
