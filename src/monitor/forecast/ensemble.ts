import type { NumberWindow } from '../ring-buffer';
import type { BandedForecaster } from './banded';
import type { PointModel } from './types';

/** The weighted median of the first `n` entries (sorted in place), `total` being their weight sum. */
function weightedMedian(entries: Array<{ p: number; w: number }>, n: number, total: number): number {
  const part = entries.slice(0, n).sort((a, b) => a.p - b.p);
  let acc = 0;
  for (const e of part) {
    acc += e.w;
    if (acc >= total / 2) return e.p;
  }
  return (part[part.length - 1] as { p: number }).p;
}

/** Options for {@link EnsembleModel}. */
export interface EnsembleOptions {
  /** Weight exponent: weights ∝ 1 / error^power; larger leans harder on the best model. @default 2 */
  power?: number;
  /** Error measure behind the weights: recent mean absolute or mean squared residual. @default 'mae' */
  error?: 'mae' | 'mse';
  /**
   * How members' predictions are combined at each horizon: `mean` (weighted mean), `median` (weighted
   * median — a spike carried by one or two members cannot drag it) or `best` (the member with the
   * lowest recent error). @default 'median'
   */
  combine?: 'mean' | 'median' | 'best';
  /** The model's name. @default 'ensemble' */
  name?: string;
}

/**
 * Online ensemble: feeds every member each sample and predicts, per horizon, a combination of the
 * members' predictions, each weighted by 1 / (its recent error at that horizon)^power, combined by
 * weighted median (default), weighted mean, or picking the best. Until every member has residuals
 * at that horizon it takes the plain median of their predictions (`best`: the last member's, which
 * should be the baseline).
 */
export class EnsembleModel implements PointModel {
  /** @inheritDoc */
  readonly name: string;
  private readonly power: number;
  private readonly error: 'mae' | 'mse';
  private readonly combine: 'mean' | 'median' | 'best';
  private readonly scratch: Array<{ p: number; w: number }>;
  private t = 0;

  /**
   * @param members - the forecasters combined; each must be fresh and used by nothing else
   */
  constructor(
    readonly members: readonly BandedForecaster[],
    options: EnsembleOptions = {},
  ) {
    this.name = options.name ?? 'ensemble';
    this.power = options.power ?? 2;
    this.error = options.error ?? 'mae';
    this.combine = options.combine ?? 'median';
    this.scratch = members.map(() => ({ p: 0, w: 0 }));
  }

  /** Forwards the sample to every member (one synthetic second apart: members only need the order). */
  update(value: number, _window: NumberWindow): void {
    this.t += 1000;
    for (const m of this.members) m.update(this.t, value);
  }

  /** The members' predictions `steps` ahead combined as configured, or `null` when no member has one. */
  predict(steps: number): number | null {
    let weighted = 0;
    let total = 0;
    let count = 0;
    let missingError = false;
    let best: number | null = null;
    let used = 0;
    let bestError = Infinity;
    for (const m of this.members) {
      const p = m.predictSteps(steps);
      if (p === null) continue;
      count++;
      const err = this.error === 'mae' ? m.recentMae(steps) : m.recentMse(steps);
      if (err === null) {
        missingError = true;
        continue;
      }
      if (err < bestError) {
        bestError = err;
        best = p;
      }
      const w = 1 / (err + 1e-9) ** this.power;
      const slot = this.scratch[used++] as { p: number; w: number };
      slot.p = p;
      slot.w = w;
      weighted += w * p;
      total += w;
    }
    if (count === 0) return null;
    if (!missingError && total > 0 && Number.isFinite(total)) {
      if (this.combine === 'best' && best !== null) return best;
      if (this.combine === 'median') return weightedMedian(this.scratch, used, total);
      return weighted / total;
    }
    // Cold start (some member has no error record yet): 'best' trusts its last member (the baseline);
    // the others take the plain median, so one member extrapolating an early spike cannot lead.
    if (this.combine === 'best') {
      for (let k = this.members.length - 1; k >= 0; k--) {
        const p = (this.members[k] as BandedForecaster).predictSteps(steps);
        if (p !== null) return p;
      }
    }
    const all: number[] = [];
    for (const m of this.members) {
      const p = m.predictSteps(steps);
      if (p !== null) all.push(p);
    }
    all.sort((a, b) => a - b);
    const mid = all.length >> 1;
    return all.length % 2 === 1
      ? (all[mid] as number)
      : ((all[mid - 1] as number) + (all[mid] as number)) / 2;
  }
}
