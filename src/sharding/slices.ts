/**
 * Deterministic shard slicing. `by: "items"`: contiguous slices of near-equal size, the remainder spread
 * one each over the first slices (10 items in 3 → 4, 3, 3). `by: "count"`: only an index and a count.
 * An empty item list has **zero** shards (nothing to run; the reducers then return their identity:
 * `[]`, `0`, `{}`), never one empty shard.
 */
import { InvalidShardArgumentError } from './errors';

/** Resource name → non-negative quantity (the scheduler's `ResourceVector`). */
export type ResourceVector = Record<string, number>;

/** One `by: "items"` slice: items `[start, end)` of the array. */
export interface SliceBounds {
  /** Shard index, 0-based. */
  readonly index: number;
  /** First item (inclusive). */
  readonly start: number;
  /** End (exclusive). */
  readonly end: number;
}

/** One `by: "count"` shard, as its handler sees it. */
export interface CountShard {
  /** Shard index, 0-based. */
  readonly index: number;
  /** Total shards. */
  readonly count: number;
}

function checkInt(field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidShardArgumentError(field, value, `must be an integer >= ${min}`);
  }
}

/**
 * Bounds of `shardCount` contiguous slices over `itemCount` items: sizes differ by at most one, larger ones
 * first. `itemCount = 0` → `[]` (zero shards) whatever `shardCount` is.
 * @throws InvalidShardArgumentError when `itemCount` is not an integer ≥ 0, or (for `itemCount > 0`)
 *   `shardCount` is not an integer in `1 … itemCount` (no empty shards).
 */
export function sliceBounds(itemCount: number, shardCount: number): SliceBounds[] {
  checkInt('itemCount', itemCount, 0);
  if (itemCount === 0) return [];
  checkInt('shardCount', shardCount, 1);
  if (shardCount > itemCount) {
    throw new InvalidShardArgumentError('shardCount', shardCount, `must not exceed itemCount (${itemCount})`);
  }
  const base = Math.floor(itemCount / shardCount);
  const extra = itemCount % shardCount;
  const out: SliceBounds[] = [];
  let start = 0;
  for (let index = 0; index < shardCount; index++) {
    const end = start + base + (index < extra ? 1 : 0);
    out.push({ index, start, end });
    start = end;
  }
  return out;
}

/**
 * Splits `items` into `shardCount` contiguous slices (see {@link sliceBounds}); concatenating them gives
 * `items` back. An empty array gives `[]` (zero shards).
 * @throws InvalidShardArgumentError as {@link sliceBounds}.
 */
export function sliceItems<T>(items: readonly T[], shardCount: number): T[][] {
  return sliceBounds(items.length, shardCount).map((b) => items.slice(b.start, b.end));
}

/**
 * The `by: "count"` shards: `{ index, count }` for `index = 0 … count−1`.
 * @throws InvalidShardArgumentError unless `count` is an integer ≥ 1.
 */
export function countShards(count: number): CountShard[] {
  checkInt('count', count, 1);
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/**
 * The share of the work in slice `index` of `shardCount`: its item fraction for `by: "items"`
 * (`itemCount` given), else `1 / shardCount`.
 * @throws InvalidShardArgumentError for an index outside `0 … shardCount−1` or bad counts.
 */
export function shardShare(shardCount: number, index: number, itemCount?: number): number {
  checkInt('shardCount', shardCount, 1);
  checkInt('index', index, 0);
  if (index >= shardCount)
    throw new InvalidShardArgumentError('index', index, `must be below shardCount (${shardCount})`);
  if (itemCount === undefined) return 1 / shardCount;
  if (itemCount === 0) return 0;
  const b = sliceBounds(itemCount, shardCount)[index] as SliceBounds;
  return (b.end - b.start) / itemCount;
}

/**
 * A shard's resources: `vector` scaled by `share` (0–1), never below `floor` on any resource. Every name of
 * `vector` and of `floor` appears in the result.
 * @param floor - per-shard minimum; @default {}
 * @throws InvalidShardArgumentError for a share outside [0, 1].
 */
export function shardResources(
  vector: Readonly<ResourceVector>,
  share: number,
  floor: Readonly<ResourceVector> = {},
): ResourceVector {
  if (!(share >= 0 && share <= 1)) throw new InvalidShardArgumentError('share', share, 'must be in [0, 1]');
  const out: ResourceVector = {};
  for (const name in vector) out[name] = Math.max((vector[name] ?? 0) * share, floor[name] ?? 0);
  for (const name in floor) if (!(name in out)) out[name] = floor[name] ?? 0;
  return out;
}
