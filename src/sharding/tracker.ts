/**
 * The parent's book of a sharded stage, pure: each shard's state and node as the Web UI and `qm status`
 * show them, the results gathered by index (one per shard, whatever order or how often they arrive), and
 * the coverage report of a partial result. The workflow drives it; it never reads a clock.
 */
import type { ShardOutput } from './reducers';
import type { ShardTask } from './fan-out';

/** Where a shard is: not started yet (batched), waiting for resources, running, or ended. */
export type ShardStatus = 'pending' | 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One shard's state, as the stage's `shards` field reports it. */
export interface ShardState {
  /** Shard index, 0-based. */
  index: number;
  /** Where it is. */
  status: ShardStatus;
  /** The node its (latest) attempt ran on. */
  node?: string;
  /** Attempts so far. */
  attempts: number;
  /** For `by: "items"`: the slice `[start, end)` it covers. */
  items?: { start: number; end: number };
  /** Why it failed or was cancelled. */
  error?: string;
}

/** Which shards (and items) a stage's result covers. */
export interface ShardCoverage {
  /** Shards planned. */
  shards: number;
  /** Indexes whose results were reduced, ascending. */
  completed: number[];
  /** Indexes that failed for good, ascending. */
  failed: number[];
  /** Indexes that did not finish (cancelled at the deadline, or never started), ascending. */
  missing: number[];
  /** For `by: "items"`: items in total, items covered, and the uncovered `[start, end)` ranges. */
  items?: { total: number; covered: number; uncovered: Array<{ start: number; end: number }> };
}

/** The parent's book of one sharded stage. */
export class ShardTracker {
  private readonly states: ShardState[];
  private readonly outputs = new Map<number, unknown>();
  private nextIndex = 0;

  /** @param tasks - the stage's shards, in index order (see `shardTasks`). */
  constructor(private readonly tasks: readonly ShardTask[]) {
    this.states = tasks.map((t) => ({
      index: t.index,
      status: 'pending',
      attempts: 0,
      ...(t.items ? { items: { start: t.items.start, end: t.items.end } } : {}),
    }));
  }

  /** Number of shards. */
  get size(): number {
    return this.tasks.length;
  }

  /** The next shard to start (ascending index), or `undefined` when all were started. */
  takeNext(): ShardTask | undefined {
    const task = this.tasks[this.nextIndex];
    if (task === undefined) return undefined;
    this.nextIndex++;
    this.set(task.index, { status: 'waiting' });
    return task;
  }

  /** An attempt of shard `index` started running on `node`. Ignored once the shard has ended. */
  running(index: number, attempt: number, node?: string): void {
    if (this.ended(index)) return;
    this.set(index, { status: 'running', attempts: attempt, ...(node === undefined ? {} : { node }) });
  }

  /** Shard `index` waits for resources (e.g. between attempts). Ignored once it has ended. */
  waiting(index: number): void {
    if (!this.ended(index)) this.set(index, { status: 'waiting' });
  }

  /**
   * Shard `index` completed with `output`. Idempotent: a second result for the same index (a replayed or
   * duplicated report) is ignored, so nothing is ever counted twice.
   */
  completed(index: number, output: unknown, attempts: number, node?: string): void {
    if (this.outputs.has(index)) return;
    this.outputs.set(index, output);
    const s = this.state(index);
    delete s.error;
    this.set(index, { status: 'completed', attempts, ...(node === undefined ? {} : { node }) });
  }

  /** True once shard `index` completed, failed or was cancelled. */
  ended(index: number): boolean {
    const status = this.state(index).status;
    return status === 'completed' || status === 'failed' || status === 'cancelled';
  }

  /**
   * Marks shard `index` failed for good with `error`, or `cancelled` (stopped at a deadline or after another
   * shard failed). Ignored once it completed.
   */
  failed(index: number, error: string, cancelled = false): void {
    if (this.outputs.has(index)) return;
    this.set(index, { status: cancelled ? 'cancelled' : 'failed', error });
  }

  /** Marks every shard never started as cancelled with `why` (the stage stopped early). */
  cancelUnstarted(why: string): void {
    for (const s of this.states)
      if (s.status === 'pending') Object.assign(s, { status: 'cancelled', error: why });
    this.nextIndex = this.tasks.length;
  }

  /** The completed shards' results, in index order, for the reducer. */
  results(): ShardOutput[] {
    return [...this.outputs.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, value]) => ({ index, value }));
  }

  /** True when every shard completed. */
  allCompleted(): boolean {
    return this.outputs.size === this.tasks.length;
  }

  /** Indexes of shards that failed for good, ascending. */
  failedIndexes(): number[] {
    return this.states.filter((s) => s.status === 'failed').map((s) => s.index);
  }

  /** Indexes of shards that did not complete (failed, cancelled or never run), ascending. */
  incompleteIndexes(): number[] {
    return this.states.filter((s) => s.status !== 'completed').map((s) => s.index);
  }

  /** A copy of every shard's state, in index order. */
  snapshot(): ShardState[] {
    return this.states.map((s) => ({ ...s, ...(s.items ? { items: { ...s.items } } : {}) }));
  }

  /** Which shards and items the completed results cover. */
  coverage(): ShardCoverage {
    const completed: number[] = [];
    const failed: number[] = [];
    const missing: number[] = [];
    for (const s of this.states) {
      if (s.status === 'completed') completed.push(s.index);
      else if (s.status === 'failed') failed.push(s.index);
      else missing.push(s.index);
    }
    const out: ShardCoverage = { shards: this.tasks.length, completed, failed, missing };
    const sliced = this.tasks.filter((t) => t.items !== undefined);
    if (sliced.length > 0) {
      let total = 0;
      let covered = 0;
      const uncovered: Array<{ start: number; end: number }> = [];
      for (const t of sliced) {
        const { start, end } = t.items as { start: number; end: number };
        total = Math.max(total, end);
        if (this.outputs.has(t.index)) covered += end - start;
        else {
          const last = uncovered[uncovered.length - 1];
          if (last !== undefined && last.end === start) last.end = end;
          else uncovered.push({ start, end });
        }
      }
      out.items = { total, covered, uncovered };
    }
    return out;
  }

  private state(index: number): ShardState {
    const s = this.states[index];
    if (s === undefined) throw new RangeError(`no shard ${index} (of ${this.states.length})`);
    return s;
  }

  private set(index: number, patch: Partial<ShardState>): void {
    Object.assign(this.state(index), patch);
  }
}
