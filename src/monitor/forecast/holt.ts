import { InvalidMonitorOptionError } from '../errors';
import type { PointModel } from './types';

/** Options for {@link HoltModel}. */
export interface HoltOptions {
  /** Level smoothing in (0, 1]. @default 0.5 */
  alpha?: number;
  /** Trend smoothing in (0, 1]. @default 0.2 */
  beta?: number;
  /** Trend damping in (0, 1]; 1 = undamped (a perfect line is then predicted exactly). @default 1 */
  phi?: number;
}

/**
 * Holt's double exponential smoothing (level + trend, optionally damped). Prediction `h` steps
 * ahead: level + (φ + φ² + … + φ^h) · trend.
 */
export class HoltModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'holt';
  private readonly alpha: number;
  private readonly beta: number;
  private readonly phi: number;
  private level: number | null = null;
  private trend = 0;
  private seen = 0;

  /** @throws InvalidMonitorOptionError when a parameter is outside (0, 1] */
  constructor(options: HoltOptions = {}) {
    this.alpha = options.alpha ?? 0.5;
    this.beta = options.beta ?? 0.2;
    this.phi = options.phi ?? 1;
    for (const [k, v] of [
      ['alpha', this.alpha],
      ['beta', this.beta],
      ['phi', this.phi],
    ] as const) {
      if (!(v > 0 && v <= 1)) throw new InvalidMonitorOptionError(k, v, 'must be in (0, 1]');
    }
  }

  /** Updates level and trend with `value`. */
  update(value: number): void {
    this.seen++;
    if (this.level === null) {
      this.level = value;
      return;
    }
    if (this.seen === 2) {
      // Initialise the trend from the first difference, so a clean line is tracked from step 2 on.
      this.trend = value - this.level;
      this.level = value;
      return;
    }
    const prevLevel = this.level;
    this.level = this.alpha * value + (1 - this.alpha) * (prevLevel + this.phi * this.trend);
    this.trend = this.beta * (this.level - prevLevel) + (1 - this.beta) * this.phi * this.trend;
  }

  /** Level plus the (damped) trend `steps` ahead, or `null` before any sample. */
  predict(steps: number): number | null {
    if (this.level === null) return null;
    let factor = 0;
    if (this.phi === 1) factor = steps;
    else for (let i = 1, p = this.phi; i <= steps; i++, p *= this.phi) factor += p;
    return this.level + factor * this.trend;
  }
}
