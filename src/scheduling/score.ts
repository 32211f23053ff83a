/**
 * The Workflow Score: `score = Σ weight_k · factor_k`, every factor in [0, 1]. Pure; time is an argument.
 *
 * Starvation bound (see {@link starvationBoundSeconds}): a stage that has waited longer than
 * `ageSaturationSeconds · (w.priority + w.importance + w.fit + w.size) / w.age` seconds — 27,360 s (7.6 h) with the
 * defaults — outranks every stage that has just become ready, even a priority-10 stage with unbounded
 * importance that fits perfectly and is tiny.
 */
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { InvalidSnapshotError } from './errors';
import { buildModel } from './model';
import { dominantShare, fitFraction } from './placement';
import { Trial } from './trial';
import type { ClusterSnapshot, ScoreBreakdown, ScoreResult } from './types';

export { starvationBoundSeconds } from './config';

/** The raw (unweighted) inputs of a score. */
export interface ScoreInputs {
  /** Integer 1–10. */
  readonly priority: number;
  /** Base importance plus boosts, ≥ 0 (saturates: `i / (i + importanceHalfSaturation)`). */
  readonly importance: number;
  /** Seconds since the stage became ready (negative counts as 0). */
  readonly waitSeconds: number;
  /** Fraction of `desired` the best node's predicted free capacity covers, in [0, 1]. */
  readonly fitFraction: number;
  /** Dominant share of `desired` in the largest node / pool, in [0, 1] (smaller scores higher). */
  readonly sizeShare: number;
}

/** `x` clamped to [0, 1]. */
export function clamp01(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

/** Number of factors a score sums (the fields of a {@link ScoreBreakdown}, in its order). */
export const FACTOR_COUNT = 5;

/**
 * Writes each factor's weighted contribution for one request into `out[at … at + 4]` (priority,
 * importance, fit, age, size) and returns their sum, the score: the cycle's form, which allocates nothing.
 * @throws InvalidSnapshotError for a priority outside 1–10 or a negative / non-finite importance.
 */
export function writeFactors(
  inputs: ScoreInputs,
  config: SchedulerConfig,
  out: Float64Array,
  at: number,
): number {
  const { priority, importance } = inputs;
  if (!(priority >= 1 && priority <= 10))
    throw new InvalidSnapshotError('priority', priority, 'must be 1-10');
  if (!(importance >= 0) || !Number.isFinite(importance)) {
    throw new InvalidSnapshotError('importance', importance, 'must be a finite number >= 0');
  }
  const w = config.weights;
  const p = w.priority * ((priority - 1) / 9);
  const i = w.importance * (importance / (importance + config.importanceHalfSaturation));
  const f = w.fit * clamp01(inputs.fitFraction);
  const a = w.age * clamp01(Math.max(0, inputs.waitSeconds) / config.ageSaturationSeconds);
  const s = w.size * (1 - clamp01(inputs.sizeShare));
  out[at] = p;
  out[at + 1] = i;
  out[at + 2] = f;
  out[at + 3] = a;
  out[at + 4] = s;
  return p + i + f + a + s;
}

/** The breakdown stored at `factors[at … at + 4]` by {@link writeFactors}. */
export function breakdownAt(factors: Float64Array, at: number): ScoreBreakdown {
  return {
    priority: factors[at] as number,
    importance: factors[at + 1] as number,
    fit: factors[at + 2] as number,
    age: factors[at + 3] as number,
    size: factors[at + 4] as number,
  };
}

/**
 * Scores one request from its raw factors.
 * @param config - compiled scheduler config; @default DEFAULT_SCHEDULER_CONFIG
 * @throws InvalidSnapshotError for a priority outside 1–10 or a negative / non-finite importance.
 */
export function computeScore(
  inputs: ScoreInputs,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
): ScoreResult {
  const factors = new Float64Array(FACTOR_COUNT);
  const score = writeFactors(inputs, config, factors, 0);
  return { score, breakdown: breakdownAt(factors, 0) };
}

/**
 * Scores every pending request of `snapshot` at `now` against the snapshot's effective free capacity
 * (the same numbers {@link runCycle} ranks by).
 * @returns key → score, in snapshot order.
 * @throws InvalidSnapshotError for a malformed snapshot.
 */
export function scoreRequests(
  snapshot: ClusterSnapshot,
  now: Date,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
): Map<string, ScoreResult> {
  const model = buildModel(snapshot, config);
  const trial = new Trial(model);
  const out = new Map<string, ScoreResult>();
  const nowMs = now.getTime();
  for (const r of model.requests) {
    out.set(
      r.request.key,
      computeScore(
        {
          priority: r.request.priority,
          importance: r.request.importance,
          waitSeconds: (nowMs - r.readyMs) / 1000,
          fitFraction: fitFraction(trial, r.desired),
          sizeShare: dominantShare(model.maxCapacity, r.desired),
        },
        config,
      ),
    );
  }
  return out;
}
