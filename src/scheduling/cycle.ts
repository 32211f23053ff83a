/**
 * One scheduling cycle, cut like kueue's: (1) snapshot → dense model, (2) score, (3) order, (4) place or
 * negotiate each request in order on a working copy, (5) emit decisions. Pure and synchronous: the caller
 * commits the decisions (the ledger re-checks them) and signals the workflows.
 */
import {
  perShardRequest,
  planShards,
  shardCountRange,
  type ShardFits,
  type ShardPlacement,
} from '../sharding/plan';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { buildModel, EPSILON, HOST_COUNT } from './model';
import { bestFitNode, dominantShare, fitFraction, largestReducedPlacement, scaled } from './placement';
import { breakdownAt, FACTOR_COUNT, writeFactors } from './score';
import { Trial } from './trial';
import type {
  ClusterSnapshot,
  CycleResult,
  Decision,
  GrantDecision,
  Hold,
  PendingRequest,
  RankedEntry,
  ScoreBreakdown,
  WaitReason,
} from './types';
import { applyBackfill, backfillInto, placeHold, runningReleases, type Release } from './backfill';
import { expectedRunSeconds } from './runtime';
import { formatVector, holdView, waitReason, type ActiveHold } from './wait-reason';

/** The queue row of the request at 0-based `rank`. */
function rankedEntry(
  rank: number,
  req: PendingRequest,
  score: number,
  breakdown: ScoreBreakdown,
  decision: Decision['kind'],
  reason: string,
): RankedEntry {
  return {
    rank: rank + 1,
    key: req.key,
    workflowId: req.workflowId,
    stageId: req.stageId,
    shardIndex: req.shardIndex,
    priority: req.priority,
    importance: req.importance,
    score,
    breakdown,
    decision,
    reason,
  };
}

/**
 * A first-fit {@link ShardFits} over the working copy (identical slices: first fit decreasing is first
 * fit). Reads only; the cycle takes the chosen plan's slices afterwards: `slotsOf` maps each returned
 * placement list to the node slots it used.
 */
function shardFitsOn(
  trial: Trial,
  slotsOf: WeakMap<object, Array<{ slot: number; count: number }>>,
): ShardFits {
  return (k, perShard) => {
    const v = trial.model.space.dense('perShard', perShard);
    const out: ShardPlacement[] = [];
    const slots: Array<{ slot: number; count: number }> = [];
    slotsOf.set(out, slots);
    if (!trial.mayFit(v, 1)) return out;
    let left = k;
    for (let p = 0; p < trial.poolFree.length; p++) {
      const need = v[HOST_COUNT + p] as number;
      if (need > 0) left = Math.min(left, Math.floor(((trial.poolFree[p] as number) + EPSILON) / need));
    }
    const nodes = trial.model.nodes;
    for (let s = 0; s < nodes.length && left > 0; s++) {
      const base = s * HOST_COUNT;
      let fit = left;
      for (let c = 0; c < HOST_COUNT && fit > 0; c++) {
        const need = v[c] as number;
        if (need > 0)
          fit = Math.min(fit, Math.floor(((trial.nodeFree[base + c] as number) + EPSILON) / need));
      }
      if (fit > 0) {
        out.push({ nodeId: (nodes[s] as (typeof nodes)[number]).view.id, count: fit });
        slots.push({ slot: s, count: fit });
        left -= fit;
      }
    }
    return out;
  };
}

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
  const trial = new Trial(model);
  const nowMs = now.getTime();

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
  // 4. Place / negotiate in order. "Does not fit" answers are memoised per shape for the whole cycle.
  const shapes = model.shapeCount;
  // Within a cycle free capacity only shrinks (grants, shard slices and holds take; a backfill into a hold
  // leaves the node no freer than before), so what does not fit now never fits later in the cycle: each
  // shape fails at most once per cycle.
  const noFitDesired = new Uint8Array(shapes); // shape → 1 once its desired failed
  const noFitReduced = new Set<number>(); // minimum · shapes + desired
  const noFitShard = new Set<string>(); // shard spec key
  const reasons: Array<WaitReason | undefined> = new Array<WaitReason | undefined>(shapes);
  const deferred: number[] = []; // ranks − 1 of waits whose decision and row are made after the loop
  const holds: ActiveHold[] = [];
  const decisions = new Array<Decision>(n);
  const queue = new Array<RankedEntry>(n);
  const slotsOf = new WeakMap<object, Array<{ slot: number; count: number }>>();
  const holdRanks: number[] = []; // rank of each hold's decision, by hold index
  // Capacity returning at a known time: running grants' and (appended as they are made) this cycle's.
  const releases: Release[] = config.maxHolds > 0 ? runningReleases(model, snapshot.running, nowMs) : [];
  // The node a request should avoid (it just lost that stage), as a slot; −1 for none or an unknown node.
  let slotById: Map<string, number> | undefined;
  const avoidSlot = (req: PendingRequest): number => {
    if (req.avoidNodeId === undefined) return -1;
    slotById ??= new Map(model.nodes.map((node, s) => [node.view.id, s]));
    return slotById.get(req.avoidNodeId) ?? -1;
  };
  /** The grant of dense `vector` (already taken) on `slot`; its release is projected when its run time is known. */
  const grantOn = (
    req: PendingRequest,
    slot: number,
    vector: Float64Array,
    reduced: boolean,
  ): GrantDecision => {
    const node = model.nodes[slot] as (typeof model.nodes)[number];
    const granted = model.space.sparse(vector, req.desired);
    if (req.expectedSeconds !== undefined) {
      const seconds = expectedRunSeconds(req.expectedSeconds, granted, req.desired);
      releases.push({ slot, vector, endMs: nowMs + seconds * 1000 });
    }
    return {
      kind: 'grant',
      key: req.key,
      nodeId: node.view.id,
      taskQueue: node.view.taskQueue,
      granted,
      reduced,
    };
  };

  let stopped = false; // strict order: a request waits, so nothing after it is placed
  for (let rank = 0; rank < n; rank++) {
    const i = nextIndex(rank, holds.length);
    taken[i] = 1;
    order[rank] = i;
    if (stopped) {
      deferred.push(rank);
      continue;
    }
    const req = pending[i] as PendingRequest;
    const desiredShape = desiredShapes[i] as number;
    const minimumShape = minimumShapes[i] as number;
    const desired = vectors[desiredShape] as Float64Array;
    const minimum = vectors[minimumShape] as Float64Array;
    let decision: Decision | null = null;
    let text = '';

    if (noFitDesired[desiredShape] === 0) {
      const slot = trial.mayFit(desired) ? bestFitNode(trial, desired, avoidSlot(req)) : -1;
      if (slot >= 0) {
        trial.take(slot, desired);
        decision = grantOn(req, slot, desired, false);
        text = `granted on ${decision.nodeId}`;
      } else noFitDesired[desiredShape] = 1;
    }

    if (decision === null && minimumShape !== desiredShape) {
      const mKey = minimumShape * shapes + desiredShape;
      if (!noFitReduced.has(mKey)) {
        const p = trial.mayFit(minimum)
          ? largestReducedPlacement(trial, minimum, desired, avoidSlot(req))
          : null;
        if (p !== null) {
          const vector = scaled(minimum, desired, p.alpha);
          trial.take(p.slot, vector);
          const g = grantOn(req, p.slot, vector, true);
          decision = g;
          text = `reduced to ${formatVector(g.granted)} on ${g.nodeId} (desired ${formatVector(req.desired)})`;
        } else noFitReduced.add(mKey);
      }
    }

    const expected = model.expectedSeconds[i] as number;
    if (decision === null && !Number.isNaN(expected) && holds.length > 0) {
      // Backfill: use held capacity when it will have finished before the holder can start.
      for (const h of holds) {
        const b = backfillInto(trial, h, desired, minimum, expected, nowMs);
        if (b === null) continue;
        applyBackfill(trial, h, b.vector);
        const g = grantOn(req, h.slot, b.vector, b.reduced);
        decision = g;
        text =
          `backfilled ${b.reduced ? `reduced to ${formatVector(g.granted)} ` : ''}on ${g.nodeId}: ` +
          `ends by ${new Date(b.endMs).toISOString()}, before ${h.key} can start`;
        break;
      }
    }

    const spec = req.shard;
    if (decision === null && spec !== undefined) {
      const sKey = `${desiredShape}|${spec.maxShards}|${spec.itemCount ?? ''}|${spec.minItemsPerShard ?? ''}|${
        spec.perShardFloor === undefined ? '' : formatVector(spec.perShardFloor)
      }`;
      if (!noFitShard.has(sKey)) {
        const shardRequest = {
          desired: req.desired,
          maxShards: spec.maxShards,
          ...(spec.itemCount === undefined ? {} : { itemCount: spec.itemCount }),
          ...(spec.minItemsPerShard === undefined ? {} : { minItemsPerShard: spec.minItemsPerShard }),
          ...(spec.perShardFloor === undefined ? {} : { perShardFloor: spec.perShardFloor }),
        };
        // Slices shrink as k grows: when even the smallest slice fits on no node, no count fits (one scan
        // of the nodes instead of one per count).
        const { max } = shardCountRange(shardRequest);
        const smallest = max === 0 ? null : model.space.dense('perShard', perShardRequest(shardRequest, max));
        const plan =
          smallest !== null && !(trial.mayFit(smallest) && bestFitNode(trial, smallest) >= 0)
            ? null
            : planShards(shardRequest, shardFitsOn(trial, slotsOf));
        if (plan !== null) {
          // Set the slices' capacity aside for this cycle so lower-scored requests cannot take it.
          if (plan.shardCount > 0) {
            const v = model.space.dense('perShard', plan.perShard);
            for (const p of slotsOf.get(plan.placements) ?? []) trial.take(p.slot, v, p.count);
          }
          decision = {
            kind: 'shard',
            key: req.key,
            shardCount: plan.shardCount,
            perShard: plan.perShard,
            placements: plan.placements,
            concurrent: plan.concurrent,
          };
          text =
            plan.shardCount === 0
              ? 'no items: zero shards'
              : `sharded into ${plan.shardCount} × ${formatVector(plan.perShard)}` +
                (plan.concurrent < plan.shardCount ? `, ${plan.concurrent} fit now` : '');
        } else noFitShard.add(sKey);
      }
    }

    if (decision === null && holds.length < config.maxHolds) {
      // The top blocked request: its reason is taken now, before its own hold, then it holds.
      const h = placeHold(trial, req.key, minimum, releases, nowMs);
      if (h !== null) {
        const reason = waitReason(trial, minimum, holds);
        trial.take(h.slot, h.held);
        holds.push(h);
        holdRanks.push(rank);
        const hold = holdView(trial, h);
        decision = { kind: 'wait', key: req.key, reason, hold };
        text =
          `${reason.message}; ` +
          (Object.keys(hold.held).length === 0
            ? `first in line for ${hold.nodeId} (nothing free to set aside yet)`
            : `holds ${formatVector(hold.held)} on ${hold.nodeId}`) +
          (hold.startsAt === null ? '' : `, expected to fit at ${hold.startsAt.toISOString()}`);
      }
    }

    if (config.strictOrder && (decision === null || decision.kind === 'wait')) stopped = true;
    if (decision === null) {
      // Other waits get their reason after the loop, against the cycle's final free capacity (what will
      // be free once these decisions are committed), memoised per minimum shape: O(shapes · nodes), not
      // O(grants · nodes).
      deferred.push(rank);
      continue;
    }

    decisions[rank] = decision;
    queue[rank] = rankedEntry(
      rank,
      req,
      scores[i] as number,
      breakdownAt(factors, i * FACTOR_COUNT),
      decision.kind,
      text,
    );
  }

  for (const rank of deferred) {
    const i = order[rank] as number;
    const req = pending[i] as PendingRequest;
    const minimumShape = minimumShapes[i] as number;
    let reason = reasons[minimumShape];
    if (reason === undefined) {
      reason = waitReason(trial, vectors[minimumShape] as Float64Array, holds);
      reasons[minimumShape] = reason;
    }
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
  const holdViews = holds.map((h) => holdView(trial, h));
  holdRanks.forEach((rank, i) => {
    const d = decisions[rank] as Decision & { kind: 'wait' };
    decisions[rank] = { ...d, hold: holdViews[i] as Hold };
  });
  return { decisions, queue, holds: holdViews };
}
