/**
 * Start-time estimates for waiting requests (like Slurm's backfill planner): a projection of the future
 * in which running grants release their capacity when they are expected to end and waiting requests
 * start, in rank order, at the earliest time their `minimum` fits for their whole expected run on some
 * node (and in the pools) without disturbing any request projected before them. Pure; time is an
 * argument. Running grants end at their `expectedEndAt`; a waiting request runs its `expectedSeconds`
 * stretched to its minimum's CPU share. Conservative where it does not know: a running grant without an
 * expected end never releases, a waiting request without an expected run time keeps what it takes for ever.
 */
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { runningReleases } from './backfill';
import { buildModel, EPSILON, HOST_COUNT } from './model';
import { expectedRunSeconds } from './runtime';
import type { ClusterSnapshot } from './types';

/** Input of {@link estimateStarts}. */
export interface EstimateInput {
  /** The snapshot the cycle ran on, or one taken after its decisions were committed. */
  readonly snapshot: ClusterSnapshot;
  /** Time of the estimate. */
  readonly now: Date;
  /**
   * Keys of waiting requests of `snapshot.pending`, in rank order (e.g. the `wait` rows of
   * `CycleResult.queue`); unknown keys are skipped.
   */
  readonly order: readonly string[];
  /** Compiled config (for the forecast safety margin); @default DEFAULT_SCHEDULER_CONFIG */
  readonly config?: SchedulerConfig;
  /** Estimate at most this many requests of `order` (the rest get `null`). @default 500 */
  readonly limit?: number;
}

/**
 * Estimates when each request of `input.order` starts (see the module comment). A request whose minimum
 * can never fit (larger than every usable node, or waiting behind something that never releases) gets
 * `null`. Time per request is O(steps · nodes · resources), steps ≤ 2 · (running + projected) + 1.
 * @returns key → estimated start (never before `now`) or `null`, for every key of `order`.
 * @throws InvalidSnapshotError for a malformed snapshot.
 */
export function estimateStarts(input: EstimateInput): Map<string, Date | null> {
  const config = input.config ?? DEFAULT_SCHEDULER_CONFIG;
  const model = buildModel(input.snapshot, config);
  const nowMs = input.now.getTime();
  const width = model.space.size;
  const nodeCount = model.nodes.length;
  const poolCount = width - HOST_COUNT;
  const rowWidth = nodeCount * HOST_COUNT + poolCount;
  const out = new Map<string, Date | null>();

  // The profile: step start times (ascending) and the free capacity from each step to the next.
  const times: number[] = [nowMs];
  const rows: Float64Array[] = [new Float64Array(rowWidth)];
  const first = rows[0] as Float64Array;
  first.set(model.nodeFree, 0);
  first.set(model.poolFree, nodeCount * HOST_COUNT);

  /** Index of the step starting at `t`, splitting a step when needed. */
  const stepAt = (t: number): number => {
    let i = times.length - 1;
    while (i > 0 && (times[i] as number) > t) i--;
    if ((times[i] as number) === t) return i;
    times.splice(i + 1, 0, t);
    rows.splice(i + 1, 0, (rows[i] as Float64Array).slice());
    return i + 1;
  };
  /** Adds `sign · v` (dense, full width) on node `slot` and the pools from `from` to `to` (ms, may be Infinity). */
  const apply = (slot: number, v: Float64Array, from: number, to: number, sign: number): void => {
    const a = stepAt(from);
    const b = to === Infinity ? times.length : stepAt(to);
    for (let i = a; i < b; i++) {
      const row = rows[i] as Float64Array;
      if (slot >= 0) {
        for (let c = 0; c < HOST_COUNT; c++) {
          const cell = slot * HOST_COUNT + c;
          row[cell] = (row[cell] as number) + sign * (v[c] as number);
        }
      }
      for (let p = 0; p < poolCount; p++) {
        const cell = nodeCount * HOST_COUNT + p;
        row[cell] = (row[cell] as number) + sign * (v[HOST_COUNT + p] as number);
      }
    }
  };

  for (const r of runningReleases(model, input.snapshot.running, nowMs))
    apply(r.slot, r.vector, r.endMs, Infinity, +1);

  const fitsRow = (row: Float64Array, slot: number, v: Float64Array): boolean => {
    for (let c = 0; c < HOST_COUNT; c++) {
      if ((v[c] as number) > (row[slot * HOST_COUNT + c] as number) + EPSILON) return false;
    }
    for (let p = 0; p < poolCount; p++) {
      if ((v[HOST_COUNT + p] as number) > (row[nodeCount * HOST_COUNT + p] as number) + EPSILON) return false;
    }
    return true;
  };

  const byKey = new Map(model.requests.map((r) => [r.request.key, r]));
  const limit = input.limit ?? 500;
  let done = 0;
  for (const key of input.order) {
    const r = byKey.get(key);
    if (r === undefined) continue;
    if (done >= limit) {
      out.set(key, null);
      continue;
    }
    done++;
    const seconds = r.request.expectedSeconds;
    const durationMs =
      seconds === undefined
        ? Infinity
        : expectedRunSeconds(seconds, r.request.minimum, r.request.desired) * 1000;
    // Per node, slide over the steps: the earliest start whose run [start, start + duration) fits throughout.
    let best: { slot: number; start: number } | null = null;
    for (let s = 0; s < nodeCount; s++) {
      let start = -1;
      for (let i = 0; i < times.length; i++) {
        const t = times[i] as number;
        if (start >= 0 && t >= start + durationMs) break; // the whole run fits
        if (start < 0 && best !== null && t >= best.start) break; // cannot beat the best node
        if (fitsRow(rows[i] as Float64Array, s, r.minimum)) {
          if (start < 0) start = t;
        } else start = -1;
      }
      if (start >= 0 && (best === null || start < best.start)) best = { slot: s, start };
    }
    if (best === null) {
      out.set(key, null);
      continue;
    }
    out.set(key, new Date(best.start));
    apply(best.slot, r.minimum, best.start, best.start + durationMs, -1);
  }
  return out;
}
