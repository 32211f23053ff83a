import { describeValue } from '../definition/issues';
import { MAX_IMPORTANCE } from '../definition/limits';

/** One boost a pipeline holds. */
export interface ActiveBoost {
  /** Importance added. */
  amount: number;
  /** ISO-8601 expiry. */
  expiresAt: string;
  /** Why (at most 500 characters). */
  reason: string;
  /** Who asked (at most 200 characters). */
  actor: string;
}

/**
 * A boost signal that was ignored (invalid, or over the cap), as `status` shows it: a bounded summary —
 * never the bad value itself (a 1 MB `reason` once broke the `status` query for good).
 */
export interface IgnoredBoost {
  /** ISO-8601 time it arrived. */
  at: string;
  /** The field at fault (`amount`, `reason`, `(root)`…). */
  field: string;
  /** Why it was ignored, at most {@link MAX_IGNORED_ERROR_LENGTH} characters. */
  error: string;
}

/** Ignored boost signals kept in `status` (the newest; older ones are only counted). */
export const MAX_IGNORED_BOOSTS = 20;
/** Longest `error` of an ignored boost, in characters. */
export const MAX_IGNORED_ERROR_LENGTH = 200;
/** Most boosts active at once on one pipeline (each needs an update or signal; the total cap bounds them too). */
export const MAX_ACTIVE_BOOSTS = 50;

/**
 * A boost refused, naming the field and a short description of the bad value (never the value itself, which
 * may be huge). Thrown by `checkBoostRequest` and {@link BoostBook.reserve}.
 */
export class InvalidBoostError extends Error {
  /** Always `'InvalidBoostError'`. */
  override readonly name = 'InvalidBoostError';
  /**
   * @param field the field at fault (`amount`, `ttlSeconds`, `reason`…)
   * @param value the bad value (described briefly in the message, not kept)
   * @param reason what is expected
   */
  constructor(
    readonly field: string,
    value: unknown,
    reason: string,
  ) {
    super(`boost.${field} ${reason} (got ${describeValue(value)})`);
  }
}

/**
 * The boosts of one pipeline run: pure bookkeeping, time passed in. The pipeline's importance — its base plus
 * every active boost — never exceeds the cap (10 by default, the top of the importance range): a boost that
 * would raise it above is refused, counting boosts still being recorded so concurrent updates cannot
 * overshoot together.
 */
/** A {@link BoostBook}'s state across a continue-as-new. */
export interface BoostBookCarry {
  /** Boosts still active. */
  boosts: ActiveBoost[];
  /** Ignored boost summaries. */
  ignored: IgnoredBoost[];
  /** How many were ignored in all. */
  ignoredTotal: number;
}

export class BoostBook {
  private readonly boosts: ActiveBoost[] = [];
  private readonly ignoredBoosts: IgnoredBoost[] = [];
  private ignoredTotal = 0;
  private pending = 0;

  /**
   * @param base the run's base importance (0–10)
   * @param cap the most base + active boosts may reach. @default 10
   */
  constructor(
    private readonly base: number,
    readonly cap: number = MAX_IMPORTANCE,
  ) {}

  /** What a continue-as-new carries: active boosts and the ignored summaries. */
  carry(now: Date): BoostBookCarry {
    return { boosts: this.active(now), ignored: [...this.ignoredBoosts], ignoredTotal: this.ignoredTotal };
  }

  /** Restores what {@link carry} returned in the previous run. */
  restore(carried: BoostBookCarry): void {
    this.boosts.push(...carried.boosts);
    this.ignoredBoosts.push(...carried.ignored.slice(-MAX_IGNORED_BOOSTS));
    this.ignoredTotal = carried.ignoredTotal;
  }

  /**
   * Refuses a boost of `amount` that would lift the importance above the cap at `now` (counting boosts being
   * recorded), or when {@link MAX_ACTIVE_BOOSTS} are active.
   * @throws InvalidBoostError naming the cap, the base and the active total.
   */
  check(amount: number, now: Date): void {
    const active = this.active(now);
    const boosted = active.reduce((sum, b) => sum + b.amount, 0) + this.pending;
    // A small tolerance: 3 + 3 + 3 + 1 must reach exactly 10 despite floating point.
    if (this.base + boosted + amount > this.cap + 1e-9) {
      const room = Math.max(0, this.cap - this.base - boosted);
      throw new InvalidBoostError(
        'amount',
        amount,
        `would raise importance above the cap of ${this.cap} (base ${this.base} + active boosts ${boosted}; at most ${Number(room.toFixed(6))} more now)`,
      );
    }
    if (active.length + 1 > MAX_ACTIVE_BOOSTS)
      throw new InvalidBoostError(
        'amount',
        amount,
        `is refused: ${MAX_ACTIVE_BOOSTS} boosts are already active`,
      );
  }

  /**
   * {@link check}s a boost, then holds its amount while it is recorded; call the returned function once it
   * was added (or failed), to stop holding it.
   * @throws InvalidBoostError as {@link check}.
   */
  reserve(amount: number, now: Date): () => void {
    this.check(amount, now);
    this.pending += amount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pending -= amount;
    };
  }

  /** Records a boost (expired ones are dropped). */
  add(boost: ActiveBoost, now?: Date): void {
    if (now !== undefined) {
      const live = this.active(now);
      this.boosts.splice(0, this.boosts.length, ...live);
    }
    this.boosts.push(boost);
  }

  /**
   * Records an ignored boost signal as a bounded summary (field and a message cut to 200 characters); keeps the
   * newest {@link MAX_IGNORED_BOOSTS} and counts the rest.
   */
  ignore(at: Date, error: { field?: string; message: string }): void {
    const message =
      error.message.length > MAX_IGNORED_ERROR_LENGTH
        ? `${error.message.slice(0, MAX_IGNORED_ERROR_LENGTH - 1)}…`
        : error.message;
    const field = (error.field ?? '(root)').slice(0, 64);
    this.ignoredBoosts.push({ at: at.toISOString(), field, error: message });
    this.ignoredTotal++;
    if (this.ignoredBoosts.length > MAX_IGNORED_BOOSTS) this.ignoredBoosts.shift();
  }

  /** Boosts unexpired at `now`. */
  active(now: Date): ActiveBoost[] {
    return this.boosts.filter((b) => Date.parse(b.expiresAt) > now.getTime());
  }

  /** Base importance plus every boost unexpired at `now` (never above the cap). */
  importance(now: Date): number {
    const total = this.base + this.active(now).reduce((sum, b) => sum + b.amount, 0);
    return Math.min(this.cap, Number(total.toFixed(9)));
  }

  /** Ignored boost signals, oldest first (the newest {@link MAX_IGNORED_BOOSTS}). */
  ignored(): IgnoredBoost[] {
    return [...this.ignoredBoosts];
  }

  /** How many boost signals were ignored in all (including those no longer listed). */
  ignoredCount(): number {
    return this.ignoredTotal;
  }
}
