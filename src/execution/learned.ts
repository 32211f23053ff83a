/**
 * Learned run times: what the scheduler assumes a stage runs when it declares no `expectedSeconds`. From the
 * last {@link LEARNED_WINDOW} completed runs of the same stage key (definition name, stage id, handler),
 * each normalised to the stage's desired allocation by the CPU share it ran at (run seconds × `cpuRate`,
 * the inverse of how `expectedRunSeconds` stretches a declared time), the {@link LEARNED_QUANTILE} quantile
 * — pessimistic on purpose: a backfilled stage that overruns delays the holder it was slotted in front of.
 * Used only from {@link LEARNED_MIN_SAMPLES} runs on. The ledger computes the same in SQL when a release
 * completes a run (`src/ledger/executions.ts`; a test keeps the two equal); this is the pure twin for the
 * simulator and tests. Pure.
 */
import { cpuRate } from '../scheduling/runtime';
import type { ResourceVector } from '../ledger/types';
import { InvalidSampleError } from './errors';

/** Completed runs a learned estimate is made of, newest first. */
export const LEARNED_WINDOW = 50;

/**
 * Once a key's window is full, its estimate is refreshed at most once per this many ms of completions (the
 * estimate of a stage that completes many times a second lags by at most this much).
 */
export const LEARNED_REFRESH_MS = 1000;

/** The quantile of the normalised run times taken as the estimate (0.9: p90). */
export const LEARNED_QUANTILE = 0.9;

/** Fewer completed runs than this give no estimate (the stage stays "unknown"). */
export const LEARNED_MIN_SAMPLES = 3;

/** Where a stage's expected run time comes from: declared by the stage, or learned from its history. */
export type ExpectedSource = 'declared' | 'learned';

/** One completed run, as a learned estimate reads it. */
export interface CompletedRun {
  /** Started → ended, seconds (finite, ≥ 0). */
  readonly runSeconds: number;
  /** What it ran with. */
  readonly granted: Readonly<ResourceVector>;
  /** What it asked for. */
  readonly desired: Readonly<ResourceVector>;
}

/** A learned estimate: seconds at the desired allocation and how many runs it is made of. */
export interface LearnedEstimate {
  /** Seconds at `desired`. */
  readonly seconds: number;
  /** Runs it is made of (≤ {@link LEARNED_WINDOW}). */
  readonly samples: number;
}

/**
 * The `q` quantile of `values` with linear interpolation between the closest ranks — PostgreSQL's
 * `percentile_cont(q)`: position `q · (n − 1)` in the sorted values.
 * @returns NaN for an empty list.
 * @throws InvalidSampleError when `q` is outside [0, 1] or a value is not finite.
 */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new InvalidSampleError('q', q, 'a number from 0 to 1');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new InvalidSampleError(`values[${i}]`, v, 'a finite number');
  });
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * A run's time normalised to its desired allocation: `runSeconds × cpuRate(granted, desired)` — a run
 * granted half its CPU that took 100 s counts as 50 s at `desired`.
 * @throws InvalidSampleError for a negative or non-finite `runSeconds`.
 */
export function normalisedSeconds(run: CompletedRun, path = 'run'): number {
  if (!Number.isFinite(run.runSeconds) || run.runSeconds < 0)
    throw new InvalidSampleError(`${path}.runSeconds`, run.runSeconds, 'a finite number >= 0');
  return run.runSeconds * cpuRate(run.granted, run.desired);
}

/**
 * The learned estimate from completed runs, newest first: the {@link LEARNED_QUANTILE} quantile of the
 * normalised times of the first {@link LEARNED_WINDOW}.
 * @param minSamples - fewer runs give `null`. @default LEARNED_MIN_SAMPLES
 * @returns the estimate, or `null` with too few runs.
 * @throws InvalidSampleError for a bad run (see {@link normalisedSeconds}) or a `minSamples` below 1.
 */
export function learnedSeconds(
  runs: readonly CompletedRun[],
  minSamples = LEARNED_MIN_SAMPLES,
): LearnedEstimate | null {
  if (!Number.isInteger(minSamples) || minSamples < 1)
    throw new InvalidSampleError('minSamples', minSamples, 'an integer >= 1');
  const window = runs.slice(0, LEARNED_WINDOW).map((r, i) => normalisedSeconds(r, `runs[${i}]`));
  if (window.length < minSamples) return null;
  return { seconds: quantile(window, LEARNED_QUANTILE), samples: window.length };
}
