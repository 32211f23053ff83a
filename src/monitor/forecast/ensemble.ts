import type { NumberWindow } from '../ring-buffer';
import type { BandedForecaster } from './banded';
import type { PointModel } from './types';

/** Options for {@link EnsembleModel}. */
export interface EnsembleOptions {
  /** Weight exponent: weights ∝ 1 / MSE^power; larger leans harder on the best model. @default 2 */
  power?: number;
}

/**
 * Online ensemble: feeds every member each sample and predicts, per horizon, the average of the
 * members' predictions weighted by 1 / (recent MSE at that horizon)^power. Until members have
 * residuals it averages them equally.
 */
export class EnsembleModel implements PointModel {
  /** @inheritDoc */
  readonly name = 'ensemble';
  private readonly power: number;
  private t = 0;

  /**
   * @param members - the forecasters combined; each must be fresh and used by nothing else
   */
  constructor(
    readonly members: readonly BandedForecaster[],
    options: EnsembleOptions = {},
  ) {
    this.power = options.power ?? 2;
  }

  /** Forwards the sample to every member (one synthetic second apart: members only need the order). */
  update(value: number, _window: NumberWindow): void {
    this.t += 1000;
    for (const m of this.members) m.update(this.t, value);
  }

  /** Recent-error-weighted mean of the members' predictions `steps` ahead, or `null` when empty. */
  predict(steps: number): number | null {
    let weighted = 0;
    let total = 0;
    let plain = 0;
    let count = 0;
    let missingError = false;
    for (const m of this.members) {
      const p = m.predictSteps(steps);
      if (p === null) continue;
      plain += p;
      count++;
      const mse = m.recentMse(steps);
      if (mse === null) {
        missingError = true;
        continue;
      }
      const w = 1 / (mse + 1e-9) ** this.power;
      weighted += w * p;
      total += w;
    }
    if (count === 0) return null;
    return missingError || total === 0 || !Number.isFinite(total) ? plain / count : weighted / total;
  }
}
