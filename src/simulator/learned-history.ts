/**
 * Run times in a simulation: declared (the workload's `expectedSeconds`), none, or learned from history with
 * the ledger's own pure estimator (`learnedSeconds`: the p90 of the last 50 completed unsharded runs of a
 * stage key, each normalised by its CPU share, from 3 runs on). {@link LearnedHistory} is the simulated
 * `qm_run_estimates`: keyed as production keys it (definition name, stage id, handler), fed the records of
 * a warm-up run and every run the simulation completes.
 */
import {
  learnedSeconds,
  type CompletedRun,
  type LearnedEstimate,
  LEARNED_WINDOW,
} from '../execution/learned';
import type { ExecutionRecord } from '../execution/record';
import type { ResourceVector } from '../scheduling/types';

/**
 * Where the run times the scheduler is told come from in a simulation:
 * - `declared`: each stage's `expectedSeconds` from the workload (by default its true duration);
 * - `none`: none — no stage declares one (backfill and start estimates cannot use run times);
 * - `learned`: no stage declares one; each request gets the learned estimate of its stage key from the
 *   history (a warm-up run's records, then the runs completed so far), as production does.
 */
export type RunTimeMode = 'declared' | 'none' | 'learned';

/** The run-time modes, in display order. */
export const RUN_TIME_MODES: readonly RunTimeMode[] = Object.freeze(['declared', 'none', 'learned']);

/** Whether `x` names a {@link RunTimeMode}. */
export function isRunTimeMode(x: unknown): x is RunTimeMode {
  return typeof x === 'string' && (RUN_TIME_MODES as readonly string[]).includes(x);
}

/** The stage key learned estimates are kept by, as production keys `qm_run_estimates`. */
export function stageKey(definitionName: string, stageId: string, handler: string): string {
  return JSON.stringify([definitionName, stageId, handler]);
}

/**
 * Completed runs per stage key, newest last, at most {@link LEARNED_WINDOW} per key, and the learned estimate
 * of each key (recomputed only when the key gains a run). Not thread-safe; one per simulation.
 */
export class LearnedHistory {
  private readonly runs = new Map<string, CompletedRun[]>();
  private readonly estimates = new Map<string, LearnedEstimate | null>();

  /**
   * A history made of `records` (any order; only completed, started, granted, unsharded attempts count, as
   * the ledger's learning index keeps them), oldest first by end time.
   * @throws InvalidSampleError for a record with a negative run time (see `learnedSeconds`).
   */
  static fromRecords(records: readonly ExecutionRecord[]): LearnedHistory {
    const history = new LearnedHistory();
    const usable = records.filter(
      (r) => r.outcome === 'completed' && r.shardIndex === null && r.startedAt !== null && r.granted !== null,
    );
    usable.sort((a, b) => a.endedAt.getTime() - b.endedAt.getTime());
    for (const r of usable) {
      history.add(stageKey(r.definitionName, r.stageId, r.handler), {
        runSeconds: (r.endedAt.getTime() - (r.startedAt as Date).getTime()) / 1000,
        granted: r.granted as ResourceVector,
        desired: r.desired,
      });
    }
    return history;
  }

  /** Adds a completed unsharded run of `key` (the newest). */
  add(key: string, run: CompletedRun): void {
    const list = this.runs.get(key) ?? [];
    list.push(run);
    if (list.length > LEARNED_WINDOW) list.shift();
    this.runs.set(key, list);
    this.estimates.delete(key);
  }

  /**
   * The learned estimate of `key` now, or `null` with fewer than `LEARNED_MIN_SAMPLES` runs.
   * @throws InvalidSampleError for a run with a negative run time.
   */
  estimate(key: string): LearnedEstimate | null {
    const cached = this.estimates.get(key);
    if (cached !== undefined) return cached;
    const list = this.runs.get(key) ?? [];
    const estimate = learnedSeconds([...list].reverse());
    this.estimates.set(key, estimate);
    return estimate;
  }

  /** Stage keys with at least one run. */
  get size(): number {
    return this.runs.size;
  }
}
