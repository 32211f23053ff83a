import { InvalidMonitorOptionError } from '../errors';
import type { NumberWindow } from '../ring-buffer';
import { MAX_STEPS, type BandedForecaster } from './banded';
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
  /**
   * Half-life, in samples, of an exponentially discounted error the ensemble keeps for each member
   * and horizon itself. Unset: the members' own recent error (the last `residualWindow` residuals,
   * equally weighted). A discounted error remembers longer without ignoring change, so `best` does
   * not flip between members on a few lucky residuals.
   */
  halfLife?: number;
  /**
   * `best` only: hysteresis. A member replaces the one chosen at a horizon only once its error is
   * below the incumbent's × (1 − margin); in [0, 1). @default 0
   */
  margin?: number;
  /** The model's name. @default 'ensemble' */
  name?: string;
}

/**
 * Online ensemble: feeds every member each sample and predicts, per horizon, a combination of the
 * members' predictions, each weighted by 1 / (its recent error at that horizon)^power, combined by
 * weighted median (default), weighted mean, or picking the best. Until every member has residuals
 * at that horizon it takes the plain median of their predictions (`best`: the last member's, which
 * should be the baseline). With `halfLife` the errors are the ensemble's own exponentially discounted
 * ones; with `margin`, `best` keeps its choice per horizon until another member is clearly better.
 */
export class EnsembleModel implements PointModel {
  /** @inheritDoc */
  readonly name: string;
  private readonly power: number;
  private readonly error: 'mae' | 'mse';
  private readonly combine: 'mean' | 'median' | 'best';
  private readonly scratch: Array<{ p: number; w: number }>;
  private readonly margin: number;
  /** Per-sample decay of the discounted errors (0.5^(1/halfLife)), or null to use the members' own. */
  private readonly decay: number | null;
  /** Discounted loss sums, weight sums and counts, indexed member × MAX_STEPS + step − 1. */
  private readonly lossSum: Float64Array;
  private readonly weightSum: Float64Array;
  private readonly counts: Uint32Array;
  /** `best`: the member chosen per step (−1 = none yet). */
  private readonly chosen: Int32Array;
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
    this.margin = options.margin ?? 0;
    this.scratch = members.map(() => ({ p: 0, w: 0 }));
    if (!(this.margin >= 0 && this.margin < 1)) {
      throw new InvalidMonitorOptionError('margin', this.margin, 'must be in [0, 1)');
    }
    const halfLife = options.halfLife;
    if (halfLife !== undefined && !(halfLife > 0)) {
      throw new InvalidMonitorOptionError('halfLife', halfLife, 'must be > 0');
    }
    this.decay = halfLife === undefined ? null : 0.5 ** (1 / halfLife);
    const cells = this.decay === null ? 0 : members.length * MAX_STEPS;
    this.lossSum = new Float64Array(cells);
    this.weightSum = new Float64Array(cells);
    this.counts = new Uint32Array(cells);
    this.chosen = new Int32Array(MAX_STEPS).fill(-1);
  }

  /**
   * Forwards the sample to every member (one synthetic second apart: members only need the order),
   * folds the residuals it scored into the discounted errors, and (`best`) re-chooses per horizon.
   */
  update(value: number, _window: NumberWindow): void {
    this.t += 1000;
    const d = this.decay;
    this.members.forEach((m, i) => {
      m.update(this.t, value);
      if (d === null) return;
      for (let s = 1; s <= MAX_STEPS; s++) {
        const r = m.newestResidual(s);
        if (r === null) continue;
        const k = i * MAX_STEPS + s - 1;
        this.lossSum[k] = d * (this.lossSum[k] as number) + (this.error === 'mae' ? Math.abs(r) : r * r);
        this.weightSum[k] = d * (this.weightSum[k] as number) + 1;
        this.counts[k] = (this.counts[k] as number) + 1;
      }
    });
    if (this.combine === 'best') for (let s = 1; s <= MAX_STEPS; s++) this.choose(s);
  }

  /**
   * `best`: the index in `members` of the member chosen `steps` ahead.
   * @returns `null` before every member has an error at that horizon (the cold start)
   */
  chosenMember(steps: number): number | null {
    const c = this.chosen[Math.min(MAX_STEPS, Math.max(1, steps)) - 1] as number;
    return c < 0 ? null : c;
  }

  /** A member's error at `steps` ahead (discounted or its own recent one), or null when too few residuals. */
  private errorOf(i: number, steps: number): number | null {
    const m = this.members[i] as BandedForecaster;
    if (this.decay === null) return this.error === 'mae' ? m.recentMae(steps) : m.recentMse(steps);
    const k = i * MAX_STEPS + Math.min(MAX_STEPS, Math.max(1, steps)) - 1;
    if ((this.counts[k] as number) < 3) return null;
    return (this.lossSum[k] as number) / (this.weightSum[k] as number);
  }

  /** `best`: the lowest-error member at `steps`, kept unless beaten by the margin; −1 until all have errors. */
  private choose(steps: number): void {
    let best = -1;
    let bestError = Infinity;
    for (let i = 0; i < this.members.length; i++) {
      const err = this.errorOf(i, steps);
      if (err === null || (this.members[i] as BandedForecaster).predictSteps(steps) === null) {
        this.chosen[steps - 1] = -1;
        return;
      }
      if (err < bestError) {
        bestError = err;
        best = i;
      }
    }
    const incumbent = this.chosen[steps - 1] as number;
    if (incumbent >= 0 && best !== incumbent) {
      const incumbentError = this.errorOf(incumbent, steps) as number;
      if (!(bestError < incumbentError * (1 - this.margin))) best = incumbent;
    }
    this.chosen[steps - 1] = best;
  }

  /** The members' predictions `steps` ahead combined as configured, or `null` when no member has one. */
  predict(steps: number): number | null {
    const s = Math.min(MAX_STEPS, Math.max(1, steps));
    if (this.combine === 'best') {
      const c = this.chosen[s - 1] as number;
      if (c >= 0) return (this.members[c] as BandedForecaster).predictSteps(s);
      // Cold start (some member has no error record yet): trust the last member (the baseline).
      for (let k = this.members.length - 1; k >= 0; k--) {
        const p = (this.members[k] as BandedForecaster).predictSteps(s);
        if (p !== null) return p;
      }
      return null;
    }
    let weighted = 0;
    let total = 0;
    let count = 0;
    let missingError = false;
    let used = 0;
    for (let i = 0; i < this.members.length; i++) {
      const p = (this.members[i] as BandedForecaster).predictSteps(s);
      if (p === null) continue;
      count++;
      const err = this.errorOf(i, s);
      if (err === null) {
        missingError = true;
        continue;
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
      if (this.combine === 'median') return weightedMedian(this.scratch, used, total);
      return weighted / total;
    }
    // Cold start (some member has no error record yet): the plain median, so one member
    // extrapolating an early spike cannot lead.
    const all: number[] = [];
    for (const m of this.members) {
      const p = m.predictSteps(s);
      if (p !== null) all.push(p);
    }
    all.sort((a, b) => a - b);
    const mid = all.length >> 1;
    return all.length % 2 === 1
      ? (all[mid] as number)
      : ((all[mid - 1] as number) + (all[mid] as number)) / 2;
  }
}
