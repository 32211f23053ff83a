/** One boost a pipeline holds. */
export interface ActiveBoost {
  amount: number;
  /** ISO-8601 expiry. */
  expiresAt: string;
  reason: string;
  actor: string;
}

/** A boost signal that was ignored because it was invalid (shown by `status`). */
export interface IgnoredBoost {
  /** ISO-8601 time it arrived. */
  at: string;
  /** Why it was ignored. */
  error: string;
}

/** The boosts of one pipeline run: pure bookkeeping, time passed in. */
export class BoostBook {
  private readonly boosts: ActiveBoost[] = [];
  private readonly ignoredBoosts: IgnoredBoost[] = [];

  constructor(private readonly base: number) {}

  /** Records a boost. */
  add(boost: ActiveBoost): void {
    this.boosts.push(boost);
  }

  /** Records an ignored (invalid) boost signal; keeps the last 20. */
  ignore(at: Date, error: string): void {
    this.ignoredBoosts.push({ at: at.toISOString(), error });
    if (this.ignoredBoosts.length > 20) this.ignoredBoosts.shift();
  }

  /** Boosts unexpired at `now`. */
  active(now: Date): ActiveBoost[] {
    return this.boosts.filter((b) => Date.parse(b.expiresAt) > now.getTime());
  }

  /** Base importance plus every boost unexpired at `now`. */
  importance(now: Date): number {
    return this.base + this.active(now).reduce((sum, b) => sum + b.amount, 0);
  }

  /** Ignored boost signals, oldest first. */
  ignored(): IgnoredBoost[] {
    return [...this.ignoredBoosts];
  }
}
