/**
 * The shard planner: the smallest shard count whose slices fit the free capacity *simultaneously*; when no
 * count up to the cap does, the smallest count of which at least one slice fits now (the others run in
 * later waves as capacity frees up — a stage wanting 8 cores on a 4-core cluster still completes). Like
 * kueue's partial admission it is a search over counts with a `fits` callback and knows nothing else; the
 * scheduling cycle passes a callback over its working copy, {@link firstFitOn} builds one over a plain
 * free-capacity view (for the sharding engine and tests).
 */
import { InvalidShardArgumentError } from './errors';
import { shardResources, type ResourceVector } from './slices';

/** What to plan for. */
export interface ShardPlanRequest {
  /** The stage's whole `desired` vector. */
  readonly desired: Readonly<ResourceVector>;
  /** Upper bound on the count (integer ≥ 1). */
  readonly maxShards: number;
  /** Items for `by: "items"` (integer ≥ 0); absent for `by: "count"`. */
  readonly itemCount?: number;
  /** Smallest slice worth a shard (integer ≥ 1). @default 1 */
  readonly minItemsPerShard?: number;
  /** No shard asks for less than this. @default {} */
  readonly perShardFloor?: Readonly<ResourceVector>;
}

/** How many slices went to one node in a trial placement. */
export interface ShardPlacement {
  /** Node id. */
  readonly nodeId: string;
  /** Slices placed there (≥ 1). */
  readonly count: number;
}

/**
 * Places as many of `shardCount` slices, each needing `perShard`, as fit on the free capacity at once
 * (first fit) and returns where (Σ count ≤ `shardCount`; empty when none fits). Must not change any state
 * the caller keeps (try on a trial, then undo).
 */
export type ShardFits = (shardCount: number, perShard: Readonly<ResourceVector>) => readonly ShardPlacement[];

/** A plan. */
export interface ShardPlan {
  /** The count chosen (0 for an empty item list). */
  readonly shardCount: number;
  /** What each shard asks for: the largest slice's share of `desired`, never below the floor. */
  readonly perShard: ResourceVector;
  /** Where the slices that fit now were placed in the trial. */
  readonly placements: readonly ShardPlacement[];
  /** How many slices fit now (Σ placements' counts): `shardCount` when all run at once, fewer for waves. */
  readonly concurrent: number;
}

/** Options of {@link planShards}. */
export interface PlanShardsOptions {
  /**
   * When no count fits all slices at once, fall back to the smallest count of which at least one slice fits
   * now (the rest wait for capacity). @default true
   */
  allowWaves?: boolean;
}

/**
 * The counts worth trying: `1 … min(maxShards, itemCount, ⌊itemCount / minItemsPerShard⌋)`, at least 1
 * (a list shorter than `minItemsPerShard` is one shard). `max = 0` only for an empty item list.
 * @throws InvalidShardArgumentError for a bad `maxShards`, `itemCount` or `minItemsPerShard`.
 */
export function shardCountRange(request: ShardPlanRequest): { min: number; max: number } {
  const { maxShards, itemCount, minItemsPerShard } = request;
  if (!Number.isInteger(maxShards) || maxShards < 1) {
    throw new InvalidShardArgumentError('maxShards', maxShards, 'must be an integer >= 1');
  }
  if (itemCount !== undefined && (!Number.isInteger(itemCount) || itemCount < 0)) {
    throw new InvalidShardArgumentError('itemCount', itemCount, 'must be an integer >= 0');
  }
  if (minItemsPerShard !== undefined && (!Number.isInteger(minItemsPerShard) || minItemsPerShard < 1)) {
    throw new InvalidShardArgumentError('minItemsPerShard', minItemsPerShard, 'must be an integer >= 1');
  }
  if (itemCount === 0) return { min: 0, max: 0 };
  let max = maxShards;
  if (itemCount !== undefined) {
    max = Math.min(max, itemCount, Math.floor(itemCount / (minItemsPerShard ?? 1)));
  }
  return { min: 1, max: Math.max(1, max) };
}

/**
 * What each of `shardCount` shards asks for: `desired` scaled by the largest slice's share
 * (`⌈itemCount / k⌉ / itemCount` for items, `1 / k` for count), never below `perShardFloor`.
 * @throws InvalidShardArgumentError for `shardCount` < 1.
 */
export function perShardRequest(request: ShardPlanRequest, shardCount: number): ResourceVector {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new InvalidShardArgumentError('shardCount', shardCount, 'must be an integer >= 1');
  }
  const n = request.itemCount;
  const share = n === undefined || n === 0 ? 1 / shardCount : Math.ceil(n / shardCount) / n;
  return shardResources(request.desired, Math.min(1, share), request.perShardFloor ?? {});
}

/**
 * Plans the smallest shard count `k` (see {@link shardCountRange}) whose `k` slices of
 * `perShardRequest(k)` all fit at once per `fits`; failing that (and with `allowWaves`), the smallest `k`
 * of which at least one slice fits now. An empty item list plans zero shards (nothing to run; reduce over
 * no results). Deterministic for a deterministic `fits`.
 * @returns the plan, or `null` when not even one slice of any count up to the cap fits.
 * @throws InvalidShardArgumentError for a bad request.
 */
export function planShards(
  request: ShardPlanRequest,
  fits: ShardFits,
  options: PlanShardsOptions = {},
): ShardPlan | null {
  const { min, max } = shardCountRange(request);
  if (max === 0) return { shardCount: 0, perShard: {}, placements: [], concurrent: 0 };
  let waves: ShardPlan | null = null;
  for (let k = min; k <= max; k++) {
    const perShard = perShardRequest(request, k);
    const placements = fits(k, perShard);
    let concurrent = 0;
    for (const p of placements) concurrent += p.count;
    if (concurrent >= k) return { shardCount: k, perShard, placements, concurrent: k };
    if (waves === null && concurrent > 0) waves = { shardCount: k, perShard, placements, concurrent };
  }
  return options.allowWaves === false ? null : waves;
}

/** Free capacity as plain vectors: per node (host resources) and per custom pool (cluster-wide). */
export interface FreeCapacityView {
  /** Nodes in the order first fit tries them. */
  readonly nodes: ReadonlyArray<{ readonly id: string; readonly free: Readonly<ResourceVector> }>;
  /** Pool name → free units; any resource named here is checked cluster-wide, not per node. @default {} */
  readonly pools?: Readonly<Record<string, number>>;
}

/**
 * A {@link ShardFits} over `view` by first fit (slices are identical, so first fit decreasing is first fit):
 * each node in order takes as many slices as fit, and the pools bound how many run at once. A
 * resource missing from a node's `free` counts as 0 there.
 */
export function firstFitOn(view: FreeCapacityView): ShardFits {
  const pools = view.pools ?? {};
  return (k, perShard) => {
    // Pools bound how many slices can run at once, cluster-wide.
    let left = k;
    for (const name in perShard) {
      const need = perShard[name] ?? 0;
      if (name in pools && need > 0) left = Math.min(left, Math.floor(((pools[name] ?? 0) + 1e-9) / need));
    }
    const placements: ShardPlacement[] = [];
    for (const node of view.nodes) {
      if (left === 0) break;
      let fit = left;
      for (const name in perShard) {
        if (name in pools) continue;
        const need = perShard[name] ?? 0;
        if (need <= 0) continue;
        fit = Math.min(fit, Math.floor(((node.free[name] ?? 0) + 1e-9) / need));
      }
      if (fit > 0) {
        placements.push({ nodeId: node.id, count: fit });
        left -= fit;
      }
    }
    return placements;
  };
}
