import { InvalidMonitorOptionError } from '../errors';
import { RingBuffer } from '../ring-buffer';
import type { Forecast, Forecaster, PointModel } from './types';

/** The longest horizon any forecaster answers, seconds. */
export const MAX_HORIZON_SECONDS = 10;
/** Steps of history kept for residuals: 10 s at the fastest sampling (500 ms). */
export const MAX_STEPS = 20;

/** Options shared by every forecaster. All optional. */
export interface ForecasterOptions {
  /** Samples kept in the window (≥ 4). @default 120 */
  windowSize?: number;
  /** Residuals kept per horizon for the band and the ensemble's weights (≥ 3). @default 60 */
  residualWindow?: number;
  /** Central share of recent residuals the band covers, in (0, 1). @default 0.9 */
  coverage?: number;
  /** Upper clamp for value and band (e.g. cores or MiB of capacity); forecasts are always ≥ 0. */
  capacity?: number;
  /** Sampling interval assumed until two samples have been seen, ms. @default 1000 */
  intervalMs?: number;
}

function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * Wraps a {@link PointModel} into a {@link Forecaster}: keeps the window, converts seconds to sample
 * steps, records each step-ahead prediction and, when its target sample arrives, the residual
 * (actual − predicted). The band at horizon h is the value plus the (1−coverage)/2 and (1+coverage)/2
 * quantiles of recent residuals at h; forecasts are clamped to [0, capacity].
 */
export class BandedForecaster implements Forecaster {
  /** @inheritDoc */
  readonly name: string;
  private readonly window: RingBuffer;
  private readonly residuals: RingBuffer[];
  /** Running sum of squared residuals per step, so `recentMse` is O(1) (the ensemble calls it often). */
  private readonly sumSquares: Float64Array;
  /** Running sum of absolute residuals per step, for `recentMae`. */
  private readonly sumAbs: Float64Array;
  /** predictions[k][s-1]: made k updates ago (circular) for s steps ahead. */
  private readonly predictions: Float64Array[];
  /** newest[s-1]: the residual at s steps scored by the latest update (NaN when none was). */
  private readonly newest: Float64Array;
  private head = 0;
  private updates = 0;
  private lastT: number | undefined;
  private interval: number;
  private readonly coverage: number;
  private readonly capacity: number;

  /** @throws InvalidMonitorOptionError when an option is out of range */
  constructor(
    readonly model: PointModel,
    options: ForecasterOptions = {},
  ) {
    this.name = model.name;
    const windowSize = options.windowSize ?? 120;
    const residualWindow = options.residualWindow ?? 60;
    this.coverage = options.coverage ?? 0.9;
    this.capacity = options.capacity ?? Infinity;
    this.interval = options.intervalMs ?? 1000;
    if (!Number.isInteger(windowSize) || windowSize < 4) {
      throw new InvalidMonitorOptionError('windowSize', windowSize, 'must be an integer >= 4');
    }
    if (!Number.isInteger(residualWindow) || residualWindow < 3) {
      throw new InvalidMonitorOptionError('residualWindow', residualWindow, 'must be an integer >= 3');
    }
    if (!(this.coverage > 0 && this.coverage < 1)) {
      throw new InvalidMonitorOptionError('coverage', this.coverage, 'must be in (0, 1)');
    }
    if (!(this.capacity > 0)) throw new InvalidMonitorOptionError('capacity', this.capacity, 'must be > 0');
    if (!(this.interval > 0)) throw new InvalidMonitorOptionError('intervalMs', this.interval, 'must be > 0');
    this.window = new RingBuffer(windowSize);
    this.residuals = Array.from({ length: MAX_STEPS }, () => new RingBuffer(residualWindow));
    this.sumSquares = new Float64Array(MAX_STEPS);
    this.sumAbs = new Float64Array(MAX_STEPS);
    this.predictions = Array.from({ length: MAX_STEPS }, () => new Float64Array(MAX_STEPS).fill(Number.NaN));
    this.newest = new Float64Array(MAX_STEPS).fill(Number.NaN);
  }

  /** Estimated sampling interval, ms. */
  get intervalMs(): number {
    return this.interval;
  }

  /** @inheritDoc */
  update(t: number, value: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(value)) return;
    if (this.lastT !== undefined) {
      if (t <= this.lastT) return;
      const dt = t - this.lastT;
      this.interval = this.updates === 1 ? dt : 0.8 * this.interval + 0.2 * dt;
    }
    this.lastT = t;
    // Score the predictions whose target is this sample: the one made s updates ago for s steps.
    this.newest.fill(Number.NaN);
    for (let s = 1; s <= Math.min(MAX_STEPS, this.updates); s++) {
      const row = this.predictions[(this.head - s + MAX_STEPS) % MAX_STEPS] as Float64Array;
      const predicted = row[s - 1] as number;
      if (Number.isNaN(predicted)) continue;
      const r = this.residuals[s - 1] as RingBuffer;
      const residual = value - predicted;
      this.newest[s - 1] = residual;
      const evicted = r.length === r.capacity ? r.get(0) : 0;
      r.push(residual);
      // Clamped at 0: subtracting evicted terms can leave tiny negative rounding residue.
      this.sumSquares[s - 1] = Math.max(
        0,
        (this.sumSquares[s - 1] as number) + residual * residual - evicted * evicted,
      );
      this.sumAbs[s - 1] = Math.max(
        0,
        (this.sumAbs[s - 1] as number) + Math.abs(residual) - Math.abs(evicted),
      );
    }
    this.window.push(value);
    this.model.update(value, this.window);
    const row = this.predictions[this.head] as Float64Array;
    for (let s = 1; s <= MAX_STEPS; s++) row[s - 1] = this.model.predict(s, this.window) ?? Number.NaN;
    this.head = (this.head + 1) % MAX_STEPS;
    this.updates++;
  }

  /** Whole sample steps that `horizonSeconds` spans at the current interval (1 … MAX_STEPS). */
  stepsFor(horizonSeconds: number): number {
    return Math.min(MAX_STEPS, Math.max(1, Math.round((horizonSeconds * 1000) / this.interval)));
  }

  /** The newest unclamped prediction `steps` ahead, or `null` before the first sample. */
  predictSteps(steps: number): number | null {
    if (this.updates === 0) return null;
    const row = this.predictions[(this.head - 1 + MAX_STEPS) % MAX_STEPS] as Float64Array;
    const v = row[Math.min(MAX_STEPS, Math.max(1, steps)) - 1] as number;
    return Number.isNaN(v) ? null : v;
  }

  /**
   * The residual (actual − predicted) of the prediction `steps` ahead that the latest update scored.
   * @returns `null` when the latest update scored none at that horizon (too early, or no prediction)
   */
  newestResidual(steps: number): number | null {
    const v = this.newest[Math.min(MAX_STEPS, Math.max(1, steps)) - 1] as number;
    return Number.isNaN(v) ? null : v;
  }

  /**
   * Mean squared residual of recent predictions `steps` ahead.
   * @returns `null` when fewer than 3 residuals are known at that horizon
   */
  recentMse(steps: number): number | null {
    const k = Math.min(MAX_STEPS, Math.max(1, steps)) - 1;
    const r = this.residuals[k] as RingBuffer;
    if (r.length < 3) return null;
    return (this.sumSquares[k] as number) / r.length;
  }

  /**
   * Mean absolute residual of recent predictions `steps` ahead.
   * @returns `null` when fewer than 3 residuals are known at that horizon
   */
  recentMae(steps: number): number | null {
    const k = Math.min(MAX_STEPS, Math.max(1, steps)) - 1;
    const r = this.residuals[k] as RingBuffer;
    if (r.length < 3) return null;
    return (this.sumAbs[k] as number) / r.length;
  }

  /** @inheritDoc */
  forecast(horizonSeconds: number): Forecast | null {
    const steps = this.stepsFor(horizonSeconds);
    const raw = this.predictSteps(steps);
    if (raw === null) return null;
    let lowOffset = 0;
    let highOffset = 0;
    // Use this horizon's residuals, or the longest shorter horizon's scaled by √(ratio) until enough exist.
    for (let s = steps; s >= 1; s--) {
      const r = this.residuals[s - 1] as RingBuffer;
      if (r.length < 3) continue;
      const sorted = r.toArray().sort((a, b) => a - b);
      const scale = Math.sqrt(steps / s);
      lowOffset = Math.min(0, quantileSorted(sorted, (1 - this.coverage) / 2)) * scale;
      highOffset = Math.max(0, quantileSorted(sorted, (1 + this.coverage) / 2)) * scale;
      break;
    }
    const clamp = (v: number): number => Math.min(this.capacity, Math.max(0, v));
    return { value: clamp(raw), lower: clamp(raw + lowOffset), upper: clamp(raw + highOffset) };
  }
}
