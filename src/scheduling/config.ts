/**
 * Scheduler configuration: what callers pass (`SchedulerOptions`, all optional) and its compiled,
 * validated, frozen form (`SchedulerConfig`). Compile once at start; every cycle reuses the result.
 */
import { InvalidSchedulerOptionError } from './errors';

/** Weight of each score factor (each factor is in [0, 1], so a weight is that factor's maximum contribution). */
export interface ScoreWeights {
  /** Stage priority 1–10. @default 1 */
  readonly priority: number;
  /** Importance (base + boosts), saturating. @default 0.6 */
  readonly importance: number;
  /** How much of `desired` the best node's predicted free capacity covers. @default 0.2 */
  readonly fit: number;
  /** Time waiting since ready; must exceed the sum of the others (the starvation bound). @default 2 */
  readonly age: number;
  /** Smaller requests slightly first. @default 0.1 */
  readonly size: number;
}

/** Options of the scheduling core; every field is optional and documented with its default. */
export interface SchedulerOptions {
  /** Per-factor weights (finite, ≥ 0); missing ones take their defaults. */
  weights?: Partial<ScoreWeights>;
  /**
   * Seconds of waiting after which the age factor reaches 1 (finite, > 0); also when a waiting request becomes
   * eligible for the starvation head (see {@link starvationBoundSeconds}). Every hour of waiting is worth
   * `w.age / (ageSaturationSeconds / 3600)` score: with 8 h, a priority-1 stage catches up with a fresh
   * priority-10 one after 4 h. 600 and then 3600 were the defaults before; on the NASA log at 3× (BENCHMARKS,
   * "SWF replay") 3600 left the order among old jobs to size alone (narrow first), which cost 1.5 % of
   * utilisation against EASY (0.966 vs 0.981); 8 h keeps it within 0.01 (0.972) with bounded slowdown 0.25×
   * EASY's, and the generated workloads' targets ("Schedule quality") hold. Slurm's equivalent
   * (`PriorityMaxAge`) defaults to 7 days. @default 28800
   */
  ageSaturationSeconds?: number;
  /** Importance at which the importance factor is 0.5 (`i / (i + h)`; finite, > 0). @default 5 */
  importanceHalfSaturation?: number;
  /**
   * Safety margin on forecasts, as a multiple of the band's width above the expected value: usage is taken
   * as `upper + margin · (upper − value)`. 0 plans on the upper band exactly. An idle, steady node (narrow
   * band) loses nothing, a noisy one loses more. Finite, ≥ 0. @default 0.25
   */
  forecastSafetyMargin?: number;
  /** How many of the highest-scored blocked requests hold capacity (backfill holds); integer ≥ 0. @default 1 */
  maxHolds?: number;
  /**
   * Stable holds: a request that held capacity in the previous cycle (`ClusterSnapshot.holders`) keeps its
   * hold — it is considered first — until it starts, unless another request's effective score exceeds its
   * own by more than this margin (score units; the starvation head comes right after the holders, see
   * {@link SchedulerConfig.enforceStarvationBound}). `Infinity`: a hold never changes hands before its holder
   * starts; 0: the top blocked request always holds (the holder may change every cycle). Finite or
   * `Infinity`, ≥ 0. The default, `weights.fit + weights.size` (0.3), means fit and size alone — which move
   * with every grant — never move a hold; priority, importance or age can (one priority step is 0.11).
   * @default weights.fit + weights.size
   */
  holdSwitchMargin?: number;
  /**
   * Strict order: once one request waits, no request after it in the order is placed in that cycle
   * (nothing overtakes the first blocked request; holds and backfill are moot). For baselines such as
   * strict FIFO. @default false
   */
  strictOrder?: boolean;
  /**
   * Require `weights.age > Σ other weights`, which is what makes the starvation bound hold. Set false only
   * for experiments (e.g. a strict-priority policy in the simulator). @default true
   */
  enforceStarvationBound?: boolean;
}

/** Validated, defaulted, frozen options. Build with {@link compileSchedulerConfig}. */
export interface SchedulerConfig {
  /** Per-factor weights. */
  readonly weights: ScoreWeights;
  /** Seconds; see {@link SchedulerOptions.ageSaturationSeconds}. */
  readonly ageSaturationSeconds: number;
  /** See {@link SchedulerOptions.importanceHalfSaturation}. */
  readonly importanceHalfSaturation: number;
  /** See {@link SchedulerOptions.forecastSafetyMargin}. */
  readonly forecastSafetyMargin: number;
  /** See {@link SchedulerOptions.maxHolds}. */
  readonly maxHolds: number;
  /** See {@link SchedulerOptions.holdSwitchMargin}. */
  readonly holdSwitchMargin: number;
  /** See {@link SchedulerOptions.strictOrder}. */
  readonly strictOrder: boolean;
  /**
   * Whether the starvation bound is enforced: each cycle first considers the oldest request that has waited
   * `ageSaturationSeconds` (the head; see {@link starvationBoundSeconds}).
   */
  readonly enforceStarvationBound: boolean;
  /**
   * Seconds after which a waiting stage outranks every fresh stage (see {@link starvationBoundSeconds});
   * `Infinity` when the bound is not enforced and the age weight is too small.
   */
  readonly starvationBoundSeconds: number;
}

/** The default weights. */
export const DEFAULT_WEIGHTS: ScoreWeights = Object.freeze({
  priority: 1,
  importance: 0.6,
  fit: 0.2,
  age: 2,
  size: 0.1,
});

function finite(field: string, value: unknown, min: number, strict: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (strict ? value <= min : value < min)) {
    throw new InvalidSchedulerOptionError(
      field,
      value,
      `must be a finite number ${strict ? '>' : '>='} ${min}`,
    );
  }
  return value;
}

/**
 * The starvation bound, in two steps.
 *
 * 1. A stage that has waited longer than
 * `T* = ageSaturationSeconds · (w.priority + w.importance + w.fit + w.size) / w.age` seconds scores higher
 * than any stage that has just become ready, whatever their priorities, importances, fits and sizes.
 * 2. Once it has waited `ageSaturationSeconds` (saturated; with the bound enforced), the oldest saturated
 * request — the head — is considered first in every cycle, after only the (at most `maxHolds`) stable
 * holders, which already hold and so start in bounded time: granted if it fits, else it holds what it will
 * need at its projected start on its node, and backfill never delays it (EASY's head reservation), so it
 * starts by the time the grants running there end, as far as their expected ends are true. Saturated
 * requests become the head in ready order, and the set of saturated requests older than a given one never
 * gains a member, so each starts after at most the head times of those older ones. Every other request
 * keeps its score order (priority, importance, fit, size, age): short, small and high-priority work
 * backfills around the head. (Until issue 15 every saturated request ranked ahead of every unsaturated one,
 * oldest first: under a long overload nearly every request is saturated and the order became FIFO.)
 *
 * Proof: every factor is in [0, 1] and importance is strictly below 1, so a fresh stage (age factor 0)
 * scores `< w.priority + w.importance + w.fit + w.size = S`. A stage waiting `t > T*` has age
 * contribution `w.age · min(1, t / ageSaturationSeconds) > S` (because `w.age > S`, so `T* <
 * ageSaturationSeconds`), and its other contributions are ≥ 0. With the defaults:
 * `28800 · (1 + 0.6 + 0.2 + 0.1) / 2 = 27360` seconds (7.6 h).
 * @returns seconds; `Infinity` when `w.age ≤ S` (no bound).
 */
export function starvationBoundSeconds(weights: ScoreWeights, ageSaturationSeconds: number): number {
  const others = weights.priority + weights.importance + weights.fit + weights.size;
  if (weights.age <= others) return Infinity;
  return (ageSaturationSeconds * others) / weights.age;
}

/**
 * Validates and defaults `options` into a frozen {@link SchedulerConfig}.
 * @throws InvalidSchedulerOptionError naming the field and the bad value (e.g. `weights.age=-1`), or
 *   `weights.age` when the starvation bound is enforced and `age ≤ Σ other weights`.
 */
export function compileSchedulerConfig(options: SchedulerOptions = {}): SchedulerConfig {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidSchedulerOptionError('options', options, 'must be an object');
  }
  const given: Partial<ScoreWeights> = options.weights ?? {};
  if (typeof given !== 'object' || given === null) {
    throw new InvalidSchedulerOptionError('weights', given, 'must be an object');
  }
  for (const name of Object.keys(given)) {
    if (!(name in DEFAULT_WEIGHTS)) {
      throw new InvalidSchedulerOptionError(
        `weights.${name}`,
        (given as Record<string, unknown>)[name],
        `unknown weight (known: ${Object.keys(DEFAULT_WEIGHTS).join(', ')})`,
      );
    }
  }
  const weights: ScoreWeights = Object.freeze({
    priority: finite('weights.priority', given.priority ?? DEFAULT_WEIGHTS.priority, 0, false),
    importance: finite('weights.importance', given.importance ?? DEFAULT_WEIGHTS.importance, 0, false),
    fit: finite('weights.fit', given.fit ?? DEFAULT_WEIGHTS.fit, 0, false),
    age: finite('weights.age', given.age ?? DEFAULT_WEIGHTS.age, 0, false),
    size: finite('weights.size', given.size ?? DEFAULT_WEIGHTS.size, 0, false),
  });
  const ageSaturationSeconds = finite('ageSaturationSeconds', options.ageSaturationSeconds ?? 28800, 0, true);
  const importanceHalfSaturation = finite(
    'importanceHalfSaturation',
    options.importanceHalfSaturation ?? 5,
    0,
    true,
  );
  const forecastSafetyMargin = finite('forecastSafetyMargin', options.forecastSafetyMargin ?? 0.25, 0, false);
  const maxHolds = options.maxHolds ?? 1;
  if (typeof maxHolds !== 'number' || !Number.isInteger(maxHolds) || maxHolds < 0) {
    throw new InvalidSchedulerOptionError('maxHolds', maxHolds, 'must be an integer >= 0');
  }
  const holdSwitchMargin = options.holdSwitchMargin ?? weights.fit + weights.size;
  if (typeof holdSwitchMargin !== 'number' || Number.isNaN(holdSwitchMargin) || holdSwitchMargin < 0) {
    throw new InvalidSchedulerOptionError(
      'holdSwitchMargin',
      holdSwitchMargin,
      'must be a number >= 0 (Infinity allowed)',
    );
  }
  const strictOrder = options.strictOrder ?? false;
  if (typeof strictOrder !== 'boolean') {
    throw new InvalidSchedulerOptionError('strictOrder', strictOrder, 'must be a boolean');
  }
  const enforce = options.enforceStarvationBound ?? true;
  if (typeof enforce !== 'boolean') {
    throw new InvalidSchedulerOptionError('enforceStarvationBound', enforce, 'must be a boolean');
  }
  const bound = starvationBoundSeconds(weights, ageSaturationSeconds);
  if (enforce && bound === Infinity) {
    const others = weights.priority + weights.importance + weights.fit + weights.size;
    throw new InvalidSchedulerOptionError(
      'weights.age',
      weights.age,
      `must exceed the sum of the other weights (${others}) so that no stage starves; ` +
        'set enforceStarvationBound: false to allow it',
    );
  }
  return Object.freeze({
    weights,
    ageSaturationSeconds,
    importanceHalfSaturation,
    forecastSafetyMargin,
    maxHolds,
    holdSwitchMargin,
    strictOrder,
    enforceStarvationBound: enforce,
    starvationBoundSeconds: bound,
  });
}

/** The compiled defaults. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = compileSchedulerConfig();
