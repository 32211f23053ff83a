/**
 * The pure shard planner, slicer and built-in reducers.
 *
 * @example
 * const plan = planShards({ desired: { cpu: 8 }, maxShards: 4, itemCount: 10 },
 *   firstFitOn({ nodes: [{ id: 'n1', free: { cpu: 4 } }] }));
 * // → { shardCount: 2, perShard: { cpu: 4 }, placements: [{ nodeId: 'n1', count: 1 }] } … or null
 * const slices = sliceItems(items, plan.shardCount);
 * const total = qmSum(results.map((value, index) => ({ index, value })));
 *
 * The workflow glue (`workflows/shard-runner.ts`) runs each {@link ShardTask} from {@link shardTasks} as a
 * child `shardWorkflow` with id {@link shardWorkflowId}, at most {@link MAX_CONCURRENT_SHARDS} at once,
 * books results by index in a {@link ShardTracker} (so a retried or replayed shard never counts twice) and
 * reduces them with the `reassembleShards` activity.
 */
export {
  planShards,
  perShardRequest,
  shardCountRange,
  firstFitOn,
  type ShardPlanRequest,
  type ShardPlan,
  type ShardPlacement,
  type ShardFits,
  type PlanShardsOptions,
  type FreeCapacityView,
} from './plan';
export {
  sliceBounds,
  sliceItems,
  countShards,
  shardShare,
  shardResources,
  type SliceBounds,
  type CountShard,
  type ResourceVector,
} from './slices';
export {
  qmConcat,
  qmSum,
  qmMerge,
  BUILTIN_REDUCERS,
  isBuiltinReducer,
  type Reducer,
  type ShardOutput,
} from './reducers';
export {
  shardRequestSpec,
  shardsUpFront,
  fanOutCount,
  shardTasks,
  shardWorkflowId,
  MAX_CONCURRENT_SHARDS,
  type ShardTask,
} from './fan-out';
export { ShardTracker, type ShardState, type ShardStatus, type ShardCoverage } from './tracker';
export { InvalidShardArgumentError, ShardMergeConflictError, ReducerInputError } from './errors';
