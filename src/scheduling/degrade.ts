/**
 * Graceful degradation: which running grants could shrink (never below their minimum, lowest standing
 * first) so that a blocked, higher-scored request fits. Pure: it proposes offers; the ledger frees the
 * difference only after each handler acknowledges its smaller allocation.
 */
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { InvalidSnapshotError } from './errors';
import { buildModel, EPSILON, HOST_COUNT } from './model';
import { bestFitNode, dominantShare, fitFraction } from './placement';
import { computeScore } from './score';
import { Trial } from './trial';
import type { ClusterSnapshot, ResourceVector } from './types';

/** One offer: reservation `key` on `nodeId` may run with `to` instead of `from`. */
export interface ShrinkOffer {
  /** The running reservation. */
  readonly key: string;
  /** Its node. */
  readonly nodeId: string;
  /** What it holds now. */
  readonly from: ResourceVector;
  /** The smaller allocation offered (every key ≥ its minimum). */
  readonly to: ResourceVector;
}

/** Offers that together would let `forKey`'s minimum fit on `nodeId`. */
export interface DegradeProposal {
  /** The blocked request. */
  readonly forKey: string;
  /** Where it would then fit. */
  readonly nodeId: string;
  /** The offers, lowest standing first. */
  readonly offers: ShrinkOffer[];
}

/** Input of {@link degrade}. */
export interface DegradeInput {
  /** The snapshot the blocked request was decided on. */
  readonly snapshot: ClusterSnapshot;
  /** Key of a pending request in it. */
  readonly requestKey: string;
  /** Time of the cycle. */
  readonly now: Date;
  /** Compiled config; @default DEFAULT_SCHEDULER_CONFIG */
  readonly config?: SchedulerConfig;
}

/**
 * Proposes shrink offers to running grants so that the pending request `requestKey` fits at its minimum.
 * A running grant is eligible when its *standing* — its score as a fresh, perfectly fitting request
 * (priority, importance, fit 1, size, age 0) — is below the blocked request's score; eligible grants
 * shrink lowest standing first (then key), each by no more than `granted − minimum`. Among usable nodes
 * whose shortfall can be covered, the one needing the least normalised shrink wins (ties: lower id);
 * pool shortfalls are covered by eligible grants anywhere. Assumes a shrunk stage frees what it gives up
 * in both books (grants and forecast usage), i.e. that its handler honours the new allocation.
 * @returns the proposal, or `null` when the request already fits, or no combination of offers suffices.
 * @throws InvalidSnapshotError for a malformed snapshot or an unknown `requestKey`.
 */
export function degrade(input: DegradeInput): DegradeProposal | null {
  const config = input.config ?? DEFAULT_SCHEDULER_CONFIG;
  const model = buildModel(input.snapshot, config);
  const trial = new Trial(model);
  const target = model.requests.find((r) => r.request.key === input.requestKey);
  if (target === undefined)
    throw new InvalidSnapshotError('requestKey', input.requestKey, 'no such pending request');
  const min = target.minimum;
  if (trial.poolsFit(min) && bestFitNode(trial, min) >= 0) return null;

  const blockedScore = computeScore(
    {
      priority: target.request.priority,
      importance: target.request.importance,
      waitSeconds: (input.now.getTime() - target.readyMs) / 1000,
      fitFraction: fitFraction(trial, target.desired),
      sizeShare: dominantShare(model.maxCapacity, target.desired),
    },
    config,
  ).score;

  const victims = input.snapshot.running
    .map((g, i) => {
      const granted = model.space.dense(`running[${i}].granted`, g.granted);
      const minimum = model.space.dense(`running[${i}].minimum`, g.minimum);
      const desired = model.space.dense(`running[${i}].desired`, g.desired);
      const spare = granted.map((v, c) => Math.max(0, v - (minimum[c] as number)));
      const standing = computeScore(
        {
          priority: g.priority,
          importance: g.importance,
          waitSeconds: 0,
          fitFraction: 1,
          sizeShare: dominantShare(model.maxCapacity, desired),
        },
        config,
      ).score;
      return { g, granted, spare, standing };
    })
    .filter((v) => v.standing < blockedScore && v.spare.some((x) => x > 0))
    .sort((a, b) => a.standing - b.standing || (a.g.key < b.g.key ? -1 : a.g.key > b.g.key ? 1 : 0));

  // Pools: cluster-wide shortfall, covered by any eligible grant.
  const poolShrink = new Map<number, Float64Array>();
  for (let p = 0; p < trial.poolFree.length; p++) {
    const c = HOST_COUNT + p;
    let short = (min[c] as number) - (trial.poolFree[p] as number);
    if (short <= EPSILON) continue;
    victims.forEach((v, i) => {
      if (short <= EPSILON) return;
      const x = Math.min(short, v.spare[c] as number);
      if (x <= 0) return;
      const s = poolShrink.get(i) ?? new Float64Array(min.length);
      s[c] = x;
      poolShrink.set(i, s);
      short -= x;
    });
    if (short > EPSILON) return null;
  }

  // Host: the usable node needing the least normalised shrink.
  let best: { slot: number; cost: number; shrink: Map<number, Float64Array> } | null = null;
  for (const node of model.nodes) {
    const base = node.slot * HOST_COUNT;
    const short = new Float64Array(HOST_COUNT);
    let possible = true;
    for (let c = 0; c < HOST_COUNT; c++) {
      if ((min[c] as number) > (node.capacity[c] as number) + EPSILON) possible = false;
      short[c] = Math.max(0, (min[c] as number) - (trial.nodeFree[base + c] as number));
    }
    if (!possible) continue;
    const shrink = new Map<number, Float64Array>();
    let cost = 0;
    victims.forEach((v, i) => {
      if (v.g.nodeId !== node.view.id) return;
      for (let c = 0; c < HOST_COUNT; c++) {
        const x = Math.min(short[c] as number, v.spare[c] as number);
        if (x <= EPSILON) continue;
        const s = shrink.get(i) ?? new Float64Array(min.length);
        s[c] = x;
        shrink.set(i, s);
        short[c] = (short[c] as number) - x;
        cost += x * (node.invCapacity[c] as number);
      }
    });
    if (short.some((x) => x > EPSILON)) continue;
    if (best === null || cost < best.cost - 1e-12) best = { slot: node.slot, cost, shrink };
  }
  if (best === null) return null;

  const offers: ShrinkOffer[] = [];
  victims.forEach((v, i) => {
    const host = best.shrink.get(i);
    const pool = poolShrink.get(i);
    if (host === undefined && pool === undefined) return;
    const to = new Float64Array(v.granted);
    for (let c = 0; c < to.length; c++) to[c] = (to[c] as number) - ((host?.[c] ?? 0) + (pool?.[c] ?? 0));
    offers.push({
      key: v.g.key,
      nodeId: v.g.nodeId,
      from: { ...v.g.granted },
      to: model.space.sparse(to, v.g.granted),
    });
  });
  const nodeId = (model.nodes[best.slot] as (typeof model.nodes)[number]).view.id;
  return { forKey: target.request.key, nodeId, offers };
}
