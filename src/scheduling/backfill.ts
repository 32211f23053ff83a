/**
 * EASY backfilling (as in Slurm and Maui), by expected run time, per node and per resource. The top blocked
 * request (the holder) is placed on the node where it is projected to fit soonest — its *shadow time*, when
 * enough running grants will have ended by their expected ends — and holds only what it will still need
 * from today's free capacity then: `held = min(free, max(0, minimum − released by the shadow time))` per
 * resource (pool columns count releases anywhere). What is free beyond that is the *extra* capacity: any
 * lower request may take it, whatever its run time, because it is not needed at the shadow time. A lower
 * request may also use the held capacity when it will have finished by the shadow time (its
 * `expectedSeconds`, stretched by a reduced CPU share). Either way the holder is never delayed, as far as
 * the expected ends are true. Requests of unknown run time never use held capacity; a holder whose start
 * depends on a grant of unknown end holds everything it can (no extra). Pure reads of a {@link Trial}; the
 * cycle applies the placement.
 */
import { InvalidSnapshotError } from './errors';
import { EPSILON, HOST_COUNT, type NodeModel } from './model';
import { scaleFactor, scaled } from './placement';
import { cpuRate } from './runtime';
import type { Trial } from './trial';
import { HOST_RESOURCE_NAMES, type RunningGrant } from './types';
import type { ActiveHold, HoldPlace } from './wait-reason';

const CPU_COLUMN = HOST_RESOURCE_NAMES.indexOf('cpu');

/**
 * One scratch vector for the functions below, which run on the cycle's hot path: each overwrites its first
 * `width` entries and never lets it escape the call (JavaScript is single-threaded; none calls another).
 */
let scratchVector = new Float64Array(8);
function scratch(width: number): Float64Array {
  if (scratchVector.length < width) scratchVector = new Float64Array(width);
  return scratchVector;
}

/** Capacity that returns at a known time: a running grant's, or one granted earlier in this cycle. */
export interface Release {
  /** Node slot it returns to (−1: a node that is not usable; its pool columns still count). */
  readonly slot: number;
  /** What returns, dense and full width. */
  readonly vector: Float64Array;
  /** When, epoch ms. */
  readonly endMs: number;
}

/**
 * The releases of `running` grants with a known `expectedEndAt` (an end already past counts as `nowMs`).
 * @throws InvalidSnapshotError for a bad grant vector or an invalid `expectedEndAt`.
 */
export function runningReleases(
  model: NodeModel,
  running: readonly RunningGrant[],
  nowMs: number,
): Release[] {
  const slotOf = new Map(model.nodes.map((n) => [n.view.id, n.slot]));
  const out: Release[] = [];
  running.forEach((g, i) => {
    if (g.expectedEndAt === undefined) return;
    const end = g.expectedEndAt instanceof Date ? g.expectedEndAt.getTime() : Number.NaN;
    if (!Number.isFinite(end))
      throw new InvalidSnapshotError(`running[${i}].expectedEndAt`, g.expectedEndAt, 'must be a valid Date');
    out.push({
      slot: slotOf.get(g.nodeId) ?? -1,
      vector: model.space.dense(`running[${i}].granted`, g.granted),
      endMs: Math.max(nowMs, end),
    });
  });
  return out;
}

/** Whether `releases` are in order of their ends. */
export function sortedByEnd(releases: readonly Release[]): boolean {
  for (let i = 1; i < releases.length; i++)
    if ((releases[i - 1] as Release).endMs > (releases[i] as Release).endMs) return false;
  return true;
}

/** `releases` by end (a stable sort): the array itself when it is already in order. */
function byEnd(releases: readonly Release[]): readonly Release[] {
  return sortedByEnd(releases) ? releases : [...releases].sort((a, b) => a.endMs - b.endMs);
}

/**
 * Inserts `release` into `releases` (in order of their ends) after every release ending no later: the
 * order a stable sort by end gives when it is appended last.
 */
export function insertByEnd(releases: Release[], release: Release): void {
  let lo = 0;
  let hi = releases.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((releases[mid] as Release).endMs <= release.endMs) lo = mid + 1;
    else hi = mid;
  }
  releases.splice(lo, 0, release);
}

/**
 * When `minimum` is projected to fit on node `slot` (and in the pools): the earliest release end at which
 * the trial's free capacity plus everything released by then covers it; `nowMs` when it fits already.
 * Assumes what a grant releases becomes free, i.e. that its measured usage leaves with it (load nobody
 * granted is taken to stay as forecast).
 * @returns epoch ms, or null when the known releases never make it fit.
 */
export function projectedStart(
  trial: Trial,
  slot: number,
  minimum: Float64Array,
  releases: readonly Release[],
  nowMs: number,
): number | null {
  const width = trial.model.space.size;
  const free = scratch(width);
  for (let c = 0; c < HOST_COUNT; c++) free[c] = trial.nodeFree[slot * HOST_COUNT + c] as number;
  for (let c = HOST_COUNT; c < width; c++) free[c] = trial.poolFree[c - HOST_COUNT] as number;
  const fits = (): boolean => {
    for (let c = 0; c < width; c++) if ((minimum[c] as number) > (free[c] as number) + EPSILON) return false;
    return true;
  };
  if (fits()) return nowMs;
  const ordered = byEnd(releases);
  for (let i = 0; i < ordered.length;) {
    const at = (ordered[i] as Release).endMs;
    // Everything ending at the same instant returns together.
    for (; i < ordered.length && (ordered[i] as Release).endMs === at; i++) {
      const r = ordered[i] as Release;
      if (r.slot === slot)
        for (let c = 0; c < HOST_COUNT; c++) free[c] = (free[c] as number) + (r.vector[c] as number);
      for (let c = HOST_COUNT; c < width; c++) free[c] = (free[c] as number) + (r.vector[c] as number);
    }
    if (fits()) return at;
  }
  return null;
}

/**
 * Places the hold of a blocked request: on the usable node where its `minimum` is projected to fit soonest
 * ({@link projectedStart}; never-fitting nodes last, then the least normalised shortfall now, then the lower
 * id), holding per resource only what it needs from today's free capacity at that time (see the module
 * comment). `null` when no node's capacity (or a pool's) could ever hold its minimum: holding then would
 * only block others.
 */
export function placeHold(
  trial: Trial,
  key: string,
  minimum: Float64Array,
  releases: readonly Release[],
  nowMs: number,
): ActiveHold | null {
  const model = trial.model;
  const width = model.space.size;
  for (let p = 0; p < model.poolCapacity.length; p++) {
    if ((minimum[HOST_COUNT + p] as number) > (model.poolCapacity[p] as number) + EPSILON) return null;
  }
  const ordered = byEnd(releases);
  let best: { slot: number; start: number | null; shortfall: number } | null = null;
  for (let s = 0; s < model.nodes.length; s++) {
    const node = model.nodes[s] as (typeof model.nodes)[number];
    let ok = true;
    let shortfall = 0;
    for (let c = 0; c < HOST_COUNT && ok; c++) {
      const m = minimum[c] as number;
      if (m > (node.capacity[c] as number) + EPSILON) ok = false;
      const short = m - (trial.nodeFree[s * HOST_COUNT + c] as number);
      if (m > 0 && short > EPSILON)
        shortfall += node.invCapacity[c] === 0 ? short * 1e9 : short * (node.invCapacity[c] as number);
    }
    if (!ok) continue;
    const start = projectedStart(trial, s, minimum, ordered, nowMs);
    const a = start ?? Infinity;
    const b = best === null ? Infinity : (best.start ?? Infinity);
    if (best === null || a < b || (a === b && shortfall < best.shortfall - 1e-12))
      best = { slot: s, start, shortfall };
  }
  if (best === null) return null;
  const held = new Float64Array(width);
  const released = new Float64Array(width);
  if (best.start !== null) {
    for (const r of ordered) {
      if (r.endMs > best.start) break;
      if (r.slot === best.slot)
        for (let c = 0; c < HOST_COUNT; c++) released[c] = (released[c] as number) + (r.vector[c] as number);
      for (let c = HOST_COUNT; c < width; c++)
        released[c] = (released[c] as number) + (r.vector[c] as number);
    }
  }
  for (let c = 0; c < width; c++) {
    const free =
      c < HOST_COUNT
        ? (trial.nodeFree[best.slot * HOST_COUNT + c] as number)
        : (trial.poolFree[c - HOST_COUNT] as number);
    const need =
      best.start === null ? (minimum[c] as number) : (minimum[c] as number) - (released[c] as number);
    held[c] = Math.min(Math.max(0, free), Math.max(0, need));
  }
  return { key, slot: best.slot, held, startsAtMs: best.start };
}

/** A backfill placement into a hold. */
export interface BackfillPlacement {
  /** The dense allocation (desired, or a reduced one ≥ minimum). */
  readonly vector: Float64Array;
  /** Whether it is below desired. */
  readonly reduced: boolean;
  /** When it is expected to end, epoch ms (≤ the hold's start). */
  readonly endMs: number;
}

/**
 * Whether a request of `expectedSeconds` (at `desired`) fits into `hold` — on the hold's node, using its
 * free capacity plus what the hold keeps — and ends by the hold's start: first at `desired`, else at the
 * largest allocation between `minimum` and `desired` that fits, if its stretched run still ends in time.
 * @returns the placement, or null.
 */
export function backfillInto(
  trial: Trial,
  hold: ActiveHold,
  desired: Float64Array,
  minimum: Float64Array,
  expectedSeconds: number,
  nowMs: number,
): BackfillPlacement | null {
  if (hold.startsAtMs === null || nowMs + expectedSeconds * 1000 > hold.startsAtMs) return null;
  const width = trial.model.space.size;
  const avail = scratch(width);
  for (let c = 0; c < HOST_COUNT; c++)
    avail[c] = (trial.nodeFree[hold.slot * HOST_COUNT + c] as number) + (hold.held[c] as number);
  for (let c = HOST_COUNT; c < width; c++)
    avail[c] = (trial.poolFree[c - HOST_COUNT] as number) + (hold.held[c] as number);
  const alpha = scaleFactor(avail, 0, 0, width, minimum, desired);
  if (alpha < 0) return null;
  const vector = alpha >= 1 ? desired : scaled(minimum, desired, alpha);
  const rate = cpuRate({ cpu: vector[CPU_COLUMN] as number }, { cpu: desired[CPU_COLUMN] as number });
  const endMs = nowMs + (expectedSeconds / rate) * 1000;
  if (endMs > hold.startsAtMs) return null;
  return { vector, reduced: alpha < 1, endMs };
}

/**
 * Applies a backfill placement: takes `vector` on the hold's node from its free capacity plus the hold's,
 * then shrinks the hold to what is still free (at most what it held). The holder's start is unchanged: the
 * backfilled request ends by then.
 */
export function applyBackfill(trial: Trial, hold: HoldPlace, vector: Float64Array): void {
  trial.take(hold.slot, hold.held, -1);
  trial.take(hold.slot, vector);
  const width = trial.model.space.size;
  const held = scratch(width);
  for (let c = 0; c < HOST_COUNT; c++) {
    const free = trial.nodeFree[hold.slot * HOST_COUNT + c] as number;
    held[c] = Math.min(hold.held[c] as number, Math.max(0, free));
  }
  for (let c = HOST_COUNT; c < width; c++) {
    const free = trial.poolFree[c - HOST_COUNT] as number;
    held[c] = Math.min(hold.held[c] as number, Math.max(0, free));
  }
  trial.take(hold.slot, held);
  hold.held.set(held.subarray(0, width));
}
