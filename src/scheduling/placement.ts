/**
 * Placement on the working copy: best fit for a full request, the largest scaled-down allocation for a
 * reduced one, and how well a request fits at all (for the score). Pure reads of a {@link Trial}.
 */
import { EPSILON, HOST_COUNT } from './model';
import type { Trial } from './trial';

/**
 * The usable node where `vector` fits leaving the least room, measured as `Σ (free − v) / capacity` over
 * host resources (so cores and MiB weigh alike); ties go to the lower node id. Pools must be checked
 * separately ({@link Trial.poolsFit}). Slot `avoid` (≥ 0) is chosen only when no other node fits.
 * @returns the node's slot, or −1 when it fits nowhere.
 */
export function bestFitNode(trial: Trial, vector: Float64Array, avoid = -1): number {
  const best = bestFitNodeExcept(trial, vector, avoid);
  return best >= 0 || avoid < 0 ? best : bestFitNodeExcept(trial, vector, -1, avoid);
}

/** {@link bestFitNode} over every slot but `except` (or only slot `only` when ≥ 0). */
function bestFitNodeExcept(trial: Trial, vector: Float64Array, except: number, only = -1): number {
  const nodes = trial.model.nodes;
  const free = trial.nodeFree;
  let best = -1;
  let bestLeft = Infinity;
  for (let s = only >= 0 ? only : 0; s < (only >= 0 ? only + 1 : nodes.length); s++) {
    if (s === except) continue;
    const base = s * HOST_COUNT;
    const inv = (nodes[s] as (typeof nodes)[number]).invCapacity;
    let left = 0;
    let fits = true;
    for (let c = 0; c < HOST_COUNT; c++) {
      const rest = (free[base + c] as number) - (vector[c] as number);
      if (rest < -EPSILON) {
        fits = false;
        break;
      }
      left += rest * (inv[c] as number);
    }
    if (fits && left < bestLeft - 1e-12) {
      best = s;
      bestLeft = left;
    }
  }
  return best;
}

/**
 * The largest common factor `α ∈ [0, 1]` such that `minimum + α · (desired − minimum)` fits in `free`
 * (closed form: the smallest `(free − min) / (desired − min)` over the resources that differ), or −1 when
 * `minimum` itself does not fit.
 */
export function scaleFactor(
  free: Float64Array,
  freeOffset: number,
  first: number,
  count: number,
  minimum: Float64Array,
  desired: Float64Array,
): number {
  let alpha = 1;
  for (let c = first; c < first + count; c++) {
    const f = free[freeOffset + c - first] as number;
    const m = minimum[c] as number;
    if (m > f + EPSILON) return -1;
    const span = (desired[c] as number) - m;
    if (span > 0) {
      const a = (f - m) / span;
      if (a < alpha) alpha = a;
    }
  }
  return alpha < 0 ? 0 : alpha;
}

/** A reduced placement: node slot and the common scale factor between minimum (0) and desired (1). */
export interface ReducedPlacement {
  /** Node slot. */
  readonly slot: number;
  /** Scale factor in [0, 1). */
  readonly alpha: number;
}

/**
 * Where the largest allocation between `minimum` and `desired` fits: the node (and pools) allowing the
 * largest common factor; ties go to the lower node id; slot `avoid` (≥ 0) only when no other node fits.
 * @returns null when `minimum` fits nowhere (or not in the pools).
 */
export function largestReducedPlacement(
  trial: Trial,
  minimum: Float64Array,
  desired: Float64Array,
  avoid = -1,
): ReducedPlacement | null {
  const poolCount = trial.poolFree.length;
  const poolAlpha = scaleFactor(trial.poolFree, 0, HOST_COUNT, poolCount, minimum, desired);
  if (poolAlpha < 0) return null;
  let best: ReducedPlacement | null = null;
  for (let s = 0; s < trial.model.nodes.length; s++) {
    if (s === avoid) continue;
    const a = scaleFactor(trial.nodeFree, s * HOST_COUNT, 0, HOST_COUNT, minimum, desired);
    if (a < 0) continue;
    const alpha = Math.min(a, poolAlpha);
    if (best === null || alpha > best.alpha + 1e-12) best = { slot: s, alpha };
  }
  if (best === null && avoid >= 0) {
    const a = scaleFactor(trial.nodeFree, avoid * HOST_COUNT, 0, HOST_COUNT, minimum, desired);
    if (a >= 0) best = { slot: avoid, alpha: Math.min(a, poolAlpha) };
  }
  return best;
}

/** `minimum + alpha · (desired − minimum)`, never above desired. */
export function scaled(minimum: Float64Array, desired: Float64Array, alpha: number): Float64Array {
  const out = new Float64Array(desired.length);
  for (let c = 0; c < desired.length; c++) {
    const m = minimum[c] as number;
    const d = desired[c] as number;
    out[c] = alpha >= 1 ? d : Math.min(d, m + alpha * (d - m));
  }
  return out;
}

/**
 * The fraction of `desired` that the best usable node's free capacity (and the pools) cover:
 * `max over nodes of min over resources of min(1, free / desired)`, in [0, 1]; 1 for an empty request,
 * 0 when there is no usable node and it asks for a host resource.
 */
export function fitFraction(trial: Trial, desired: Float64Array): number {
  let pools = 1;
  for (let p = 0; p < trial.poolFree.length; p++) {
    const d = desired[HOST_COUNT + p] as number;
    if (d > 0) pools = Math.min(pools, Math.max(0, trial.poolFree[p] as number) / d);
  }
  let asksHost = false;
  for (let c = 0; c < HOST_COUNT; c++) if ((desired[c] as number) > 0) asksHost = true;
  if (!asksHost) return pools;
  let best = 0;
  const free = trial.nodeFree;
  for (let s = 0; s < trial.model.nodes.length && best < 1; s++) {
    const base = s * HOST_COUNT;
    let f = 1;
    for (let c = 0; c < HOST_COUNT && f > best; c++) {
      const d = desired[c] as number;
      if (d > 0) f = Math.min(f, Math.max(0, free[base + c] as number) / d);
    }
    if (f > best) best = f;
  }
  return Math.min(best, pools);
}

/**
 * The share of the largest usable node (host) or the pool (custom) that `desired` needs on its dominant
 * resource, in [0, 1]; 1 when it asks for something nobody has.
 */
export function dominantShare(maxCapacity: Float64Array, desired: Float64Array): number {
  let share = 0;
  for (let c = 0; c < desired.length; c++) {
    const d = desired[c] as number;
    if (d <= 0) continue;
    const cap = maxCapacity[c] as number;
    const s = cap > 0 ? d / cap : 1;
    if (s > share) share = s;
  }
  return Math.min(1, share);
}
