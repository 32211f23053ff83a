/**
 * From a stage's shard spec to the shards the sharding engine runs, pure: the spec the scheduler reads
 * (`shardRequestSpec`), the count to run (`fanOutCount`), each shard's input and resources (`shardTasks`)
 * and the child workflow ids (`shardWorkflowId`). Deterministic: a replayed or retried parent derives the
 * same shards, ids and slices, which is what makes every shard's result land exactly once.
 */
import { DEFAULT_ITEMS_MAX_SHARDS, MAX_SHARDS } from '../definition/limits';
import type { ResourceVector, StageDefinition } from '../definition/types';
import type { JsonValue } from '../handlers/types';
import type { ShardRequestSpec } from '../scheduling/types';
import { InvalidShardArgumentError } from './errors';
import { perShardRequest, shardCountRange, type ShardPlanRequest } from './plan';
import { sliceBounds, shardResources } from './slices';

/**
 * Most children a parent keeps started at once (Temporal allows 2,000 pending); more start as these finish.
 * Equal to the cap on shards per stage (`MAX_SHARDS`, 256), so a stage's shards all start at once.
 */
export const MAX_CONCURRENT_SHARDS = MAX_SHARDS;

/** One shard to run. */
export interface ShardTask {
  /** Shard index, 0-based. */
  readonly index: number;
  /** Total shards (what the handler sees as `shard.count`). */
  readonly count: number;
  /** The handler's input: the stage's input with `input[field]` replaced by the slice (`by: "items"`). */
  readonly input: JsonValue;
  /** For `by: "items"`: the slice `[start, end)` of the stage's array. */
  readonly items?: { readonly start: number; readonly end: number };
  /** What the shard asks the scheduler for; absent when the stage declares no resources. */
  readonly resources?: { readonly desired: ResourceVector; readonly minimum: ResourceVector };
}

/** The array a `by: "items"` stage splits: `input[spec.field]`. @throws InvalidShardArgumentError when not an array. */
function itemsOf(stage: StageDefinition, input: JsonValue): JsonValue[] {
  const field = stage.shard?.field ?? '';
  const value =
    input !== null && typeof input === 'object' && !Array.isArray(input) ? input[field] : undefined;
  if (!Array.isArray(value)) {
    throw new InvalidShardArgumentError(
      `stage "${stage.id}" input.${field}`,
      value,
      'must be an array to shard by items',
    );
  }
  return value;
}

/** The planner's request for `stage` (desired, cap, items, floor); `undefined` when it is not shardable. */
function planRequest(stage: StageDefinition, input: JsonValue): ShardPlanRequest | undefined {
  const spec = stage.shard;
  if (spec === undefined) return undefined;
  const floor = spec.resources?.minimum;
  const common = {
    desired: stage.resources?.desired ?? {},
    ...(floor === undefined ? {} : { perShardFloor: floor }),
  };
  if (spec.by === 'count') {
    const count = spec.count ?? 1;
    // Defence in depth (validation already caps it): a huge count would build a huge array here.
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS)
      throw new InvalidShardArgumentError('count', count, `must be an integer 1–${MAX_SHARDS}`);
    return { ...common, maxShards: count };
  }
  const maxShards = Math.min(spec.maxShards ?? DEFAULT_ITEMS_MAX_SHARDS, MAX_SHARDS);
  return {
    ...common,
    maxShards,
    itemCount: itemsOf(stage, input).length,
    ...(spec.minItemsPerShard === undefined ? {} : { minItemsPerShard: spec.minItemsPerShard }),
  };
}

/**
 * What the stage's admission request carries so the scheduler may decide `shard`: `maxShards`, the item
 * count (`by: "items"`: the length of `input[field]`), `minItemsPerShard` and the per-shard floor. A
 * `by: "count"` stage always runs `count` shards, so its cap is `count`.
 * @returns `undefined` for a stage without a shard spec.
 * @throws InvalidShardArgumentError when `input[field]` is not an array.
 */
export function shardRequestSpec(stage: StageDefinition, input: JsonValue): ShardRequestSpec | undefined {
  const r = planRequest(stage, input);
  if (r === undefined) return undefined;
  return {
    maxShards: r.maxShards,
    ...(r.itemCount === undefined ? {} : { itemCount: r.itemCount }),
    ...(r.minItemsPerShard === undefined ? {} : { minItemsPerShard: r.minItemsPerShard }),
    ...(r.perShardFloor === undefined ? {} : { perShardFloor: { ...r.perShardFloor } }),
  };
}

/** True when the stage shards before asking for the whole (`shard.always`). */
export function shardsUpFront(stage: StageDefinition): boolean {
  return stage.shard?.always === true;
}

/**
 * How many shards to run: `count` for `by: "count"` (whatever the scheduler chose); for `by: "items"`
 * the scheduler's `decided` count, or — sharding up front — the largest count the spec allows
 * (`min(maxShards, items, items / minItemsPerShard)`), clamped to that range either way.
 * @throws InvalidShardArgumentError for a stage without a shard spec or a bad items field.
 */
export function fanOutCount(stage: StageDefinition, input: JsonValue, decided?: number): number {
  const r = planRequest(stage, input);
  if (r === undefined)
    throw new InvalidShardArgumentError(`stage "${stage.id}" shard`, undefined, 'is not set');
  if (stage.shard?.by === 'count') return r.maxShards;
  const { min, max } = shardCountRange(r);
  return decided === undefined ? max : Math.max(min, Math.min(max, decided));
}

/**
 * The shards of `stage` split `count` ways: their inputs (contiguous slices of `input[field]` for items,
 * the stage's input for count) and resources. Without per-shard `resources` in the spec a shard desires
 * the stage's `desired` scaled by the largest slice's share (never below the floor) — exactly what the
 * scheduler planned with — and accepts the stage's `minimum` scaled the same way.
 * @throws InvalidShardArgumentError for a bad count or items field.
 */
export function shardTasks(stage: StageDefinition, input: JsonValue, count: number): ShardTask[] {
  const r = planRequest(stage, input);
  if (r === undefined)
    throw new InvalidShardArgumentError(`stage "${stage.id}" shard`, undefined, 'is not set');
  const spec = stage.shard as NonNullable<StageDefinition['shard']>;
  const resources = shardStageResources(stage, r, count);
  if (spec.by === 'count') {
    if (!Number.isInteger(count) || count < 1)
      throw new InvalidShardArgumentError('count', count, 'must be an integer >= 1');
    return Array.from({ length: count }, (_, index) => ({
      index,
      count,
      input,
      ...(resources ? { resources } : {}),
    }));
  }
  const items = itemsOf(stage, input);
  const base = input as { [key: string]: JsonValue };
  return sliceBounds(items.length, count).map((b) => ({
    index: b.index,
    count,
    input: { ...base, [spec.field ?? '']: items.slice(b.start, b.end) },
    items: { start: b.start, end: b.end },
    ...(resources ? { resources } : {}),
  }));
}

function shardStageResources(
  stage: StageDefinition,
  r: ShardPlanRequest,
  count: number,
): ShardTask['resources'] | undefined {
  const own = stage.shard?.resources;
  if (own !== undefined) return { desired: { ...own.desired }, minimum: { ...(own.minimum ?? own.desired) } };
  if (stage.resources === undefined || count < 1) return undefined;
  const desired = perShardRequest(r, count);
  const n = r.itemCount;
  const share = Math.min(1, n === undefined || n === 0 ? 1 / count : Math.ceil(n / count) / n);
  const scaledMin = shardResources(
    stage.resources.minimum ?? stage.resources.desired,
    share,
    r.perShardFloor,
  );
  const minimum: ResourceVector = {};
  for (const name in desired) minimum[name] = Math.min(desired[name] ?? 0, scaledMin[name] ?? 0);
  return { desired, minimum };
}

/**
 * The child workflow id of shard `index` of `stageId` under the parent `parentWorkflowId`:
 * `<parent>/<stage>/shard-<index>`. Deterministic, so a replayed parent never starts a second child for
 * the same shard (Temporal refuses a second running workflow with one id).
 */
export function shardWorkflowId(parentWorkflowId: string, stageId: string, index: number): string {
  return `${parentWorkflowId}/${stageId}/shard-${index}`;
}
