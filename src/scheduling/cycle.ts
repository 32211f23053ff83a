/**
 * One scheduling cycle, cut like kueue's: (1) snapshot → dense model, (2) score, (3) order, (4) place or
 * negotiate each request in order on a working copy, (5) emit decisions. Pure and synchronous: the caller
 * commits the decisions (the ledger re-checks them) and signals the workflows.
 */
import { runningReleases, type Release } from './backfill';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { buildModel } from './model';
import { dominantShare, fitFraction } from './placement';
import { Placer } from './placer';
import { rankedEntry } from './queue-row';
import { breakdownAt, FACTOR_COUNT, writeFactors } from './score';
import type { ClusterSnapshot, CycleResult, Decision, Hold, PendingRequest, RankedEntry } from './types';

/**
 * Stable holds: moves the previous cycle's holders (`holders`, still pending) to the front of `order`, in
 * their rank order, at most `config.maxHolds` of them — unless some pending request's score exceeds the
 * holder's by more than `config.holdSwitchMargin` (then it keeps its plain rank). A holder in front is
 * granted if it fits, else it holds again: a hold stays with its holder until the holder starts, even
 * against the saturated requests (which come next: the holder's start is bounded, it holds).
 * @returns how many holders were moved to the front.
 */
function stableHoldersFirst(
  order: number[],
  effective: Float64Array,
  pending: readonly PendingRequest[],
  holders: readonly string[] | undefined,
  config: SchedulerConfig,
): number {
  if (holders === undefined || holders.length === 0 || config.maxHolds === 0) return 0;
  const wanted = new Set(holders);
  let top = -Infinity;
  for (const e of effective) if (e > top) top = e;
  const first: number[] = [];
  for (const i of order) {
    if (first.length >= config.maxHolds) break;
    if (
      wanted.has((pending[i] as PendingRequest).key) &&
      top - (effective[i] as number) <= config.holdSwitchMargin
    )
      first.push(i);
  }
  if (first.length === 0) return 0;
  const moved = new Set(first);
  let at = 0;
  const rest = order.filter((i) => !moved.has(i));
  for (const i of first) order[at++] = i;
  for (const i of rest) order[at++] = i;
  return first.length;
}

/**
 * Runs one cycle over `snapshot` at `now`. Per request in score order:
 * 1. `desired` fits on a usable node (and in the pools) → `grant` on the best-fitting node;
 * 2. else `minimum` fits → `grant` with `reduced: true`: `minimum + α · (desired − minimum)` with the
 *    largest common `α` any node allows;
 * 3. else, with `expectedSeconds`, backfill: `grant` into a hold's capacity (at desired, else reduced) when
 *    it will have finished by the time the holder is projected to fit ({@link backfillInto}). (Steps 1–2
 *    already use a hold's *extra* capacity, what the holder will not need at its projected start: EASY.)
 * 4. else shardable → `shard` with the smallest count whose slices fit together ({@link planShards});
 *    the slices' capacity is set aside for the rest of the cycle;
 * 5. else `wait` with a reason; the first `config.maxHolds` such requests hold what they will need of
 *    today's free capacity on the node where they are projected to fit soonest (`Hold.startsAt`, the shadow
 *    time; see {@link placeHold}), so lower-ranked requests only use it as in 3. With `config.strictOrder`
 *    nothing after the first waiting request is placed.
 *
 * Order: score, then `readySince`, `sequence`, `shardIndex`, key; the previous cycle's holders
 * (`snapshot.holders`) first unless outranked by more than `config.holdSwitchMargin`; then, with the
 * starvation bound, requests that have waited `ageSaturationSeconds`, oldest first, until one of them
 * holds (or `maxHolds` do); then the rest in score order. A holder's reason describes the capacity when it was considered; other waits'
 *    reasons describe the capacity left after the whole cycle (what will be free once its decisions are
 *    committed).
 *
 * Effective free on a node is `min(capacity − granted, capacity − forecast upper band − margin)` for
 * monitored resources and `capacity − granted` otherwise; pools are `capacity − granted`, cluster-wide;
 * stale nodes get nothing. The snapshot is never written: all changes go to a {@link Trial}.
 * @param config - compiled config; @default DEFAULT_SCHEDULER_CONFIG
 * @returns decisions and the ranked queue, both in rank order, and the holds placed.
 * @throws InvalidSnapshotError for a malformed snapshot (before deciding anything).
 */
export function runCycle(
  snapshot: ClusterSnapshot,
  now: Date,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
): CycleResult {
  // 1. Snapshot → dense model and a working copy.
  const model = buildModel(snapshot, config);
  const nowMs = now.getTime();
  // Capacity returning at a known time: running grants' and (appended as they are made) this cycle's.
  const releases: Release[] = config.maxHolds > 0 ? runningReleases(model, snapshot.running, nowMs) : [];
  const placer = new Placer(model, model.shapeVectors, config, nowMs, releases);
  const trial = placer.trial; // nothing is taken until step 4

  // 2. Score every request against the snapshot's free capacity (fit and size memoised per desired shape),
  // reading the model's per-request arrays (struct of arrays: no object per request on the hot path).
  const pending = model.pending;
  const desiredShapes = model.desiredShapes;
  const minimumShapes = model.minimumShapes;
  const vectors = model.shapeVectors;
  const ready = model.readyMs;
  const n = pending.length;
  const fitMemo = new Float64Array(model.shapeCount).fill(Number.NaN);
  const sizeMemo = new Float64Array(model.shapeCount).fill(Number.NaN);
  // Factors stay in one typed array until the rows are built: no object per request while deciding.
  const factors = new Float64Array(n * FACTOR_COUNT);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const req = pending[i] as PendingRequest;
    const shape = desiredShapes[i] as number;
    let fit = fitMemo[shape] as number;
    let size = sizeMemo[shape] as number;
    if (Number.isNaN(fit)) {
      const desired = vectors[shape] as Float64Array;
      fit = fitFraction(trial, desired);
      size = dominantShare(model.maxCapacity, desired);
      fitMemo[shape] = fit;
      sizeMemo[shape] = size;
    }
    scores[i] = writeFactors(
      {
        priority: req.priority,
        importance: req.importance,
        waitSeconds: (nowMs - (ready[i] as number)) / 1000,
        fitFraction: fit,
        sizeShare: size,
      },
      config,
      factors,
      i * FACTOR_COUNT,
    );
  }

  // 3. Order (sorting indexes over typed arrays: the comparator runs n log n times): by score; ties: older
  // readySince, then the arrival sequence, then the shard index; the key only when all of those are equal
  // (never input order). The previous cycle's holders go first (stable holds). With the starvation bound,
  // saturated requests (waited ageSaturationSeconds) are also sorted oldest first: the loop below takes
  // them first, oldest first, until one of them holds (see `nextIndex`).
  const sequence = model.sequence;
  const older = (a: number, b: number): number => {
    const ra = ready[a] as number;
    const rb = ready[b] as number;
    if (ra !== rb) return ra - rb;
    const qa = sequence[a] as number;
    const qb = sequence[b] as number;
    if (qa !== qb) return qa < qb ? -1 : 1;
    const pa = pending[a] as PendingRequest;
    const pb = pending[b] as PendingRequest;
    const ia = pa.shardIndex ?? -1;
    const ib = pb.shardIndex ?? -1;
    if (ia !== ib) return ia - ib;
    return pa.key < pb.key ? -1 : pa.key > pb.key ? 1 : 0;
  };
  const scoreOrder: number[] = [];
  for (let i = 0; i < n; i++) scoreOrder.push(i);
  scoreOrder.sort((a, b) => {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    return sa !== sb ? sb - sa : older(a, b);
  });
  const stableFront = stableHoldersFirst(scoreOrder, scores, pending, snapshot.holders, config);
  const saturatedOrder: number[] = [];
  if (config.enforceStarvationBound) {
    const saturationMs = config.ageSaturationSeconds * 1000;
    for (let i = 0; i < n; i++) if (nowMs - (ready[i] as number) >= saturationMs) saturatedOrder.push(i);
    saturatedOrder.sort(older);
  }
  const order = new Array<number>(n); // rank → index, filled as the loop takes requests
  const taken = new Uint8Array(n);
  let nextScore = 0;
  let nextSaturated = 0;
  const ageFirstUntil = Math.max(1, config.maxHolds);
  /**
   * The request to consider at `rank` (the starvation bound, EASY's head reservation for old work): the
   * stable holders first; then, while fewer than `max(1, maxHolds)` requests hold, the oldest saturated
   * request not yet taken (granted if it fits, else it holds, and backfill never delays it); then score
   * order. So short, small and high-priority work backfills around the oldest blocked saturated request
   * instead of every saturated request going strictly oldest first.
   */
  const nextIndex = (rank: number, holding: number): number => {
    if (rank >= stableFront && holding < ageFirstUntil) {
      while (nextSaturated < saturatedOrder.length && taken[saturatedOrder[nextSaturated] as number] === 1)
        nextSaturated++;
      if (nextSaturated < saturatedOrder.length) return saturatedOrder[nextSaturated++] as number;
    }
    while (taken[scoreOrder[nextScore] as number] === 1) nextScore++;
    return scoreOrder[nextScore++] as number;
  };
  // 4. Place / negotiate in order (the placer memoises "does not fit" answers per shape for the whole cycle).
  const deferred: number[] = []; // ranks of waits whose decision and row are made after the loop
  const decisions = new Array<Decision>(n);
  const queue = new Array<RankedEntry>(n);
  const holdRanks: number[] = []; // rank of each hold's decision, by hold index
  const expectedSeconds = model.expectedSeconds;

  for (let rank = 0; rank < n; rank++) {
    const i = nextIndex(rank, placer.holds.length);
    taken[i] = 1;
    order[rank] = i;
    if (placer.stopped) {
      deferred.push(rank);
      continue;
    }
    const req = pending[i] as PendingRequest;
    const placed = placer.place(
      req,
      desiredShapes[i] as number,
      minimumShapes[i] as number,
      expectedSeconds[i] as number,
    );
    if (placed === null) {
      // Other waits get their reason after the loop, against the cycle's final free capacity.
      deferred.push(rank);
      continue;
    }
    const decision = placed.decision;
    if (decision.kind === 'wait' && decision.hold !== undefined) holdRanks.push(rank);
    decisions[rank] = decision;
    queue[rank] = rankedEntry(
      rank,
      req,
      scores[i] as number,
      breakdownAt(factors, i * FACTOR_COUNT),
      decision.kind,
      placed.text,
    );
  }

  for (const rank of deferred) {
    const i = order[rank] as number;
    const req = pending[i] as PendingRequest;
    const reason = placer.reasonFor(minimumShapes[i] as number);
    decisions[rank] = { kind: 'wait', key: req.key, reason };
    queue[rank] = rankedEntry(
      rank,
      req,
      scores[i] as number,
      breakdownAt(factors, i * FACTOR_COUNT),
      'wait',
      reason.message,
    );
  }

  // 5. Decisions out (a hold backfilled into shows what it finally keeps); nothing else was touched.
  const holdViews = placer.finalHolds();
  holdRanks.forEach((rank, i) => {
    const d = decisions[rank] as Decision & { kind: 'wait' };
    decisions[rank] = { ...d, hold: holdViews[i] as Hold };
  });
  return { decisions, queue, holds: holdViews };
}
