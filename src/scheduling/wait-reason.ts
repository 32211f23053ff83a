/**
 * Why a request waits, told on its *closest* node: one whose capacity could hold its minimum, with the least
 * normalised shortfall `Σ max(0, min − free) / capacity`; ties go to the lower id. (Where a blocked request
 * holds capacity is `placeHold` in `backfill.ts`.)
 */
import { EPSILON, HOST_COUNT } from './model';
import type { Trial } from './trial';
import type { Hold, ResourceVector, WaitReason } from './types';

/** Where a blocked request holds capacity, in dense form. */
export interface HoldPlace {
  /** The holding request's key. */
  readonly key: string;
  /** Node slot. */
  readonly slot: number;
  /**
   * Held amounts, full width (host columns on the node, pool columns cluster-wide). Written in place only
   * when a backfilled request takes part of it.
   */
  readonly held: Float64Array;
}

/** A placed hold: where, and when its holder is projected to fit (epoch ms; null: unknown). */
export interface ActiveHold extends HoldPlace {
  /** See {@link Hold.startsAt}. */
  readonly startsAtMs: number | null;
}

/** The closest node to fitting `minimum`. */
export interface ClosestNode {
  /** Node slot, −1 when there is no usable node. */
  readonly slot: number;
  /** Whether its capacity could ever hold `minimum`. */
  readonly capacityOk: boolean;
  /** Normalised host shortfall (0 = the host part fits now). */
  readonly shortfall: number;
}

/** Renders a quantity: up to 3 decimals, no trailing zeros. */
export function formatQuantity(x: number): string {
  return String(Number(x.toFixed(3)));
}

/** Renders `cpu=4 memoryMb=2048` (names sorted), `-` when empty. */
export function formatVector(v: Readonly<ResourceVector>): string {
  const names = Object.keys(v).sort();
  return names.length === 0 ? '-' : names.map((n) => `${n}=${formatQuantity(v[n] ?? 0)}`).join(' ');
}

/** Finds the node closest to fitting `minimum` (see the module comment). */
export function closestNode(trial: Trial, minimum: Float64Array): ClosestNode {
  const nodes = trial.model.nodes;
  let best: ClosestNode = { slot: -1, capacityOk: false, shortfall: Infinity };
  for (let s = 0; s < nodes.length; s++) {
    const node = nodes[s] as (typeof nodes)[number];
    const base = s * HOST_COUNT;
    let capacityOk = true;
    let shortfall = 0;
    for (let c = 0; c < HOST_COUNT; c++) {
      const m = minimum[c] as number;
      if (m <= 0) continue;
      if (m > (node.capacity[c] as number) + EPSILON) capacityOk = false;
      const short = m - (trial.nodeFree[base + c] as number);
      if (short > EPSILON)
        shortfall += node.invCapacity[c] === 0 ? short * 1e9 : short * (node.invCapacity[c] as number);
    }
    const better =
      best.slot < 0 ||
      (capacityOk && !best.capacityOk) ||
      (capacityOk === best.capacityOk && shortfall < best.shortfall - 1e-12);
    if (better) best = { slot: s, capacityOk, shortfall };
  }
  return best;
}

function fitsWithHoldReleased(
  trial: Trial,
  minimum: Float64Array,
  hold: ActiveHold,
  hostFitsElsewhere: boolean,
): boolean {
  for (let p = 0; p < trial.poolFree.length; p++) {
    const c = HOST_COUNT + p;
    if ((minimum[c] as number) > (trial.poolFree[p] as number) + (hold.held[c] as number) + EPSILON)
      return false;
  }
  if (hostFitsElsewhere) return true;
  const base = hold.slot * HOST_COUNT;
  for (let c = 0; c < HOST_COUNT; c++) {
    if ((minimum[c] as number) > (trial.nodeFree[base + c] as number) + (hold.held[c] as number) + EPSILON)
      return false;
  }
  return true;
}

/**
 * Why `minimum` fits nowhere on `trial`: the short resource on the closest node (or the short pool), or
 * `held` when releasing one of `holds` would let it fit.
 */
export function waitReason(trial: Trial, minimum: Float64Array, holds: readonly ActiveHold[]): WaitReason {
  const model = trial.model;
  const names = model.space.names;
  let asksHost = false;
  for (let c = 0; c < HOST_COUNT; c++) if ((minimum[c] as number) > 0) asksHost = true;
  if (model.nodes.length === 0) {
    return {
      code: 'no-nodes',
      resource: null,
      needed: 0,
      bestFree: 0,
      exceedsCapacity: asksHost,
      message: 'no usable node (none registered, or all stale)',
    };
  }
  const closest = closestNode(trial, minimum);
  let reason: WaitReason | null = null;
  if (closest.shortfall > 0) {
    const node = model.nodes[closest.slot] as (typeof model.nodes)[number];
    const base = closest.slot * HOST_COUNT;
    let col = -1;
    let worst = -Infinity;
    for (let c = 0; c < HOST_COUNT; c++) {
      const short = (minimum[c] as number) - (trial.nodeFree[base + c] as number);
      if (short <= EPSILON) continue;
      const inv = node.invCapacity[c] as number;
      const norm = inv === 0 ? Infinity : short * inv;
      if (norm > worst) {
        worst = norm;
        col = c;
      }
    }
    const needed = minimum[col] as number;
    const bestFree = Math.max(0, trial.nodeFree[base + col] as number);
    const exceeds = needed > (model.maxCapacity[col] as number) + EPSILON;
    const resource = names[col] as string;
    reason = {
      code: 'capacity',
      resource,
      needed,
      bestFree,
      nodeId: node.view.id,
      exceedsCapacity: exceeds,
      message:
        `${resource}: needs ${formatQuantity(needed)}, best node ${node.view.id} has ${formatQuantity(bestFree)} free` +
        (exceeds
          ? ` (more than any node's capacity, ${formatQuantity(model.maxCapacity[col] as number)})`
          : ''),
    };
  } else {
    for (let p = 0; p < trial.poolFree.length && reason === null; p++) {
      const c = HOST_COUNT + p;
      const needed = minimum[c] as number;
      const free = trial.poolFree[p] as number;
      if (needed <= free + EPSILON) continue;
      const capacity = model.poolCapacity[p] as number;
      const exceeds = needed > capacity + EPSILON;
      const resource = names[c] as string;
      reason = {
        code: 'pool',
        resource,
        needed,
        bestFree: Math.max(0, free),
        exceedsCapacity: exceeds,
        message:
          `${resource}: needs ${formatQuantity(needed)}, pool has ${formatQuantity(Math.max(0, free))} free` +
          (exceeds ? ` (more than its capacity, ${formatQuantity(capacity)})` : ''),
      };
    }
  }
  if (reason === null) {
    // Defensive: callers ask only after minimum failed to fit, so some resource is short.
    reason = {
      code: 'capacity',
      resource: null,
      needed: 0,
      bestFree: 0,
      exceedsCapacity: false,
      message: 'no placement found',
    };
  }
  for (const hold of holds) {
    if (fitsWithHoldReleased(trial, minimum, hold, closest.shortfall === 0)) {
      return {
        ...reason,
        code: 'held',
        heldBy: hold.key,
        message: `${reason.message}; held for ${hold.key}`,
      };
    }
  }
  return reason;
}

/** The public form of a hold: non-zero held quantities by name. */
export function holdView(trial: Trial, hold: ActiveHold): Hold {
  const held: ResourceVector = {};
  hold.held.forEach((v, c) => {
    if (v > 0) held[trial.model.space.names[c] as string] = v;
  });
  return {
    key: hold.key,
    nodeId: (trial.model.nodes[hold.slot] as (typeof trial.model.nodes)[number]).view.id,
    held,
    startsAt: hold.startsAtMs === null ? null : new Date(hold.startsAtMs),
  };
}
