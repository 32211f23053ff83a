/**
 * Step 4 of a cycle: place or negotiate requests one at a time, in the order the caller chooses, on a
 * working copy ({@link Trial}) of the nodes' free capacity. Both the reference cycle (`runCycle`) and the
 * incremental core (`IncrementalCycle`) drive this one class, so what happens to a request once its turn
 * comes is the same code in both; they differ only in how they find the order.
 */
import {
  perShardRequest,
  planShards,
  shardCountRange,
  type ShardFits,
  type ShardPlacement,
} from '../sharding/plan';
import { applyBackfill, backfillInto, insertByEnd, placeHold, sortedByEnd, type Release } from './backfill';
import type { SchedulerConfig } from './config';
import { EPSILON, HOST_COUNT, type NodeModel } from './model';
import { bestFitNode, largestReducedPlacement, scaled } from './placement';
import { expectedRunSeconds } from './runtime';
import { Trial } from './trial';
import type { Decision, GrantDecision, Hold, PendingRequest, WaitReason } from './types';
import { formatVector, holdView, waitReason, type ActiveHold } from './wait-reason';

/** A decision and its queue text (where it was granted, how it was sharded, or why it waits). */
export interface Placed {
  /** The decision. */
  readonly decision: Decision;
  /** The ranked queue row's `reason`. */
  readonly text: string;
}

/**
 * A first-fit {@link ShardFits} over the working copy (identical slices: first fit decreasing is first
 * fit). Reads only; the placer takes the chosen plan's slices afterwards: `slotsOf` maps each returned
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

/** The memo key of a shard spec (with its desired shape): equal keys plan alike on the same capacity. */
export function shardSpecKey(desiredShape: number, req: PendingRequest): string {
  const spec = req.shard;
  if (spec === undefined) return '';
  return `${desiredShape}|${spec.maxShards}|${spec.itemCount ?? ''}|${spec.minItemsPerShard ?? ''}|${
    spec.perShardFloor === undefined ? '' : formatVector(spec.perShardFloor)
  }`;
}

/**
 * The placement state of one cycle: the working copy, the holds placed so far, capacity returning at known
 * times, and the memoised "does not fit" answers. Within a cycle free capacity only shrinks (grants, shard
 * slices and holds take; a backfill into a hold leaves the node no freer than before), so what does not fit
 * now never fits later in the cycle: each desired shape, (minimum, desired) pair and shard spec fails at
 * most once per cycle, and is not tried again.
 */
export class Placer {
  /** The working copy of free capacity. */
  readonly trial: Trial;
  /** Holds placed so far, in order. */
  readonly holds: ActiveHold[] = [];
  /** Strict order: a request waited, so nothing after it is placed (see `SchedulerConfig.strictOrder`). */
  stopped = false;
  /** Shape → 1 once its desired failed this cycle. */
  readonly noFitDesired: Uint8Array;
  private noFitReduced: Set<number> | undefined; // minimum · shapes + desired pairs that failed
  private noFitShard: Set<string> | undefined; // shard spec keys that failed
  private reasons: Map<number, WaitReason> | undefined;
  private slotsOf: WeakMap<object, Array<{ slot: number; count: number }>> | undefined;
  private slotById: Map<string, number> | undefined;

  /**
   * @param model - the nodes and pools (never written: all changes go to {@link trial})
   * @param shapeVectors - shape id → dense vector, for the shape ids given to {@link place}
   * @param config - the compiled config
   * @param nowMs - the cycle's time, epoch ms
   * @param releases - capacity returning at known times (running grants'); sorted by end in place (a stable
   *   sort) and kept so: this cycle's grants are inserted in order
   * @param texts - build the queue texts ({@link Placed.text}); false leaves them empty (when no queue is
   *   returned). @default true
   */
  constructor(
    readonly model: NodeModel,
    private readonly shapeVectors: readonly Float64Array[],
    private readonly config: SchedulerConfig,
    private readonly nowMs: number,
    private readonly releases: Release[],
    private readonly texts = true,
  ) {
    this.trial = new Trial(model);
    // In order of their ends once (holds read them so), equal ends in their given order.
    if (!sortedByEnd(releases)) releases.sort((a, b) => a.endMs - b.endMs);
    this.noFitDesired = new Uint8Array(shapeVectors.length);
  }

  /** Whether the reduced grant of (`minimumShape`, `desiredShape`) failed this cycle. */
  reducedFailed(minimumShape: number, desiredShape: number): boolean {
    return this.noFitReduced?.has(minimumShape * this.shapeVectors.length + desiredShape) === true;
  }

  /** Whether the shard spec `key` ({@link shardSpecKey}) failed this cycle. */
  shardFailed(key: string): boolean {
    return this.noFitShard?.has(key) === true;
  }

  /** The node a request should avoid (it just lost that stage), as a slot; −1 for none or an unknown node. */
  private avoidSlot(req: PendingRequest): number {
    if (req.avoidNodeId === undefined) return -1;
    this.slotById ??= new Map(this.model.nodes.map((node, s) => [node.view.id, s]));
    return this.slotById.get(req.avoidNodeId) ?? -1;
  }

  /** The grant of dense `vector` (already taken) on `slot`; its release is projected when its run time is known. */
  private grantOn(req: PendingRequest, slot: number, vector: Float64Array, reduced: boolean): GrantDecision {
    const node = this.model.nodes[slot] as (typeof this.model.nodes)[number];
    const granted = this.model.space.sparse(vector, req.desired);
    if (req.expectedSeconds !== undefined) {
      const seconds = expectedRunSeconds(req.expectedSeconds, granted, req.desired);
      insertByEnd(this.releases, { slot, vector, endMs: this.nowMs + seconds * 1000 });
    }
    return {
      kind: 'grant',
      key: req.key,
      nodeId: node.view.id,
      taskQueue: node.view.taskQueue,
      granted,
      reduced,
    };
  }

  /**
   * Decides one request at its turn:
   * 1. `desired` fits on a usable node (and in the pools) → `grant` on the best-fitting node;
   * 2. else `minimum` fits → reduced `grant` (the largest common scale any node allows);
   * 3. else, with a known run time, backfill into a hold it ends before ({@link backfillInto});
   * 4. else shardable → `shard` with the smallest count whose slices fit (slices set aside);
   * 5. else, while fewer than `maxHolds` hold, `wait` holding capacity ({@link placeHold}).
   * With `strictOrder`, a request that waits stops the cycle ({@link stopped}).
   * @param expected - `expectedSeconds`, NaN when unknown
   * @returns the decision and its text, or null for a plain wait (its reason comes from {@link reasonFor}).
   * @throws InvalidShardArgumentError only for a shard spec the snapshot validation let through (never).
   */
  place(req: PendingRequest, desiredShape: number, minimumShape: number, expected: number): Placed | null {
    const placed = this.decide(req, desiredShape, minimumShape, expected);
    if (this.config.strictOrder && (placed === null || placed.decision.kind === 'wait')) this.stopped = true;
    return placed;
  }

  private decide(
    req: PendingRequest,
    desiredShape: number,
    minimumShape: number,
    expected: number,
  ): Placed | null {
    const trial = this.trial;
    const desired = this.shapeVectors[desiredShape] as Float64Array;
    const minimum = this.shapeVectors[minimumShape] as Float64Array;

    if (this.noFitDesired[desiredShape] === 0) {
      const slot = trial.mayFit(desired) ? bestFitNode(trial, desired, this.avoidSlot(req)) : -1;
      if (slot >= 0) {
        trial.take(slot, desired);
        const decision = this.grantOn(req, slot, desired, false);
        return { decision, text: this.texts ? `granted on ${decision.nodeId}` : '' };
      }
      this.noFitDesired[desiredShape] = 1;
    }

    if (minimumShape !== desiredShape) {
      const mKey = minimumShape * this.shapeVectors.length + desiredShape;
      if (!this.reducedFailed(minimumShape, desiredShape)) {
        const p = trial.mayFit(minimum)
          ? largestReducedPlacement(trial, minimum, desired, this.avoidSlot(req))
          : null;
        if (p !== null) {
          const vector = scaled(minimum, desired, p.alpha);
          trial.take(p.slot, vector);
          const g = this.grantOn(req, p.slot, vector, true);
          return {
            decision: g,
            text: this.texts
              ? `reduced to ${formatVector(g.granted)} on ${g.nodeId} (desired ${formatVector(req.desired)})`
              : '',
          };
        }
        (this.noFitReduced ??= new Set()).add(mKey);
      }
    }

    if (!Number.isNaN(expected) && this.holds.length > 0) {
      // Backfill: use held capacity when it will have finished before the holder can start.
      for (const h of this.holds) {
        const b = backfillInto(trial, h, desired, minimum, expected, this.nowMs);
        if (b === null) continue;
        applyBackfill(trial, h, b.vector);
        const g = this.grantOn(req, h.slot, b.vector, b.reduced);
        return {
          decision: g,
          text: !this.texts
            ? ''
            : `backfilled ${b.reduced ? `reduced to ${formatVector(g.granted)} ` : ''}on ${g.nodeId}: ` +
              `ends by ${new Date(b.endMs).toISOString()}, before ${h.key} can start`,
        };
      }
    }

    const sharded = this.shard(req, desiredShape);
    if (sharded !== null) return sharded;

    if (this.holds.length < this.config.maxHolds) {
      // The top blocked request: its reason is taken now, before its own hold, then it holds.
      const h = placeHold(trial, req.key, minimum, this.releases, this.nowMs);
      if (h !== null) {
        const reason = waitReason(trial, minimum, this.holds);
        trial.take(h.slot, h.held);
        this.holds.push(h);
        const hold = holdView(trial, h);
        return {
          decision: { kind: 'wait', key: req.key, reason, hold },
          text: !this.texts
            ? ''
            : `${reason.message}; ` +
              (Object.keys(hold.held).length === 0
                ? `first in line for ${hold.nodeId} (nothing free to set aside yet)`
                : `holds ${formatVector(hold.held)} on ${hold.nodeId}`) +
              (hold.startsAt === null ? '' : `, expected to fit at ${hold.startsAt.toISOString()}`),
        };
      }
    }
    return null;
  }

  /** Step 4 (shard), memoised per spec key. */
  private shard(req: PendingRequest, desiredShape: number): Placed | null {
    const spec = req.shard;
    if (spec === undefined) return null;
    const sKey = shardSpecKey(desiredShape, req);
    if (this.shardFailed(sKey)) return null;
    const trial = this.trial;
    const model = this.model;
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
        : planShards(shardRequest, shardFitsOn(trial, (this.slotsOf ??= new WeakMap())));
    if (plan === null) {
      (this.noFitShard ??= new Set()).add(sKey);
      return null;
    }
    // Set the slices' capacity aside for this cycle so lower-scored requests cannot take it.
    if (plan.shardCount > 0) {
      const v = model.space.dense('perShard', plan.perShard);
      for (const p of this.slotsOf?.get(plan.placements) ?? []) trial.take(p.slot, v, p.count);
    }
    return {
      decision: {
        kind: 'shard',
        key: req.key,
        shardCount: plan.shardCount,
        perShard: plan.perShard,
        placements: plan.placements,
        concurrent: plan.concurrent,
      },
      text: !this.texts
        ? ''
        : plan.shardCount === 0
          ? 'no items: zero shards'
          : `sharded into ${plan.shardCount} × ${formatVector(plan.perShard)}` +
            (plan.concurrent < plan.shardCount ? `, ${plan.concurrent} fit now` : ''),
    };
  }

  /**
   * The reason of a plain wait with minimum shape `minimumShape`, against the capacity left after the whole
   * cycle (what will be free once its decisions are committed), memoised per shape: O(shapes · nodes), not
   * O(waits · nodes). Call only once every request has had its turn.
   */
  reasonFor(minimumShape: number): WaitReason {
    this.reasons ??= new Map();
    let reason = this.reasons.get(minimumShape);
    if (reason === undefined) {
      reason = waitReason(this.trial, this.shapeVectors[minimumShape] as Float64Array, this.holds);
      this.reasons.set(minimumShape, reason);
    }
    return reason;
  }

  /** The holds as they end the cycle (a hold backfilled into shows what it finally keeps), in order. */
  finalHolds(): Hold[] {
    return this.holds.map((h) => holdView(this.trial, h));
  }
}
