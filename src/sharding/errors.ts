/**
 * Errors thrown by the shard planner, slicer and built-in reducers (`src/sharding`). Match them by `name`,
 * never by message text (`instanceof` breaks across Jest module registries and the workflow sandbox). All
 * are deterministic: retrying the same input fails the same way, so map them onto non-retryable failures.
 */

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * A shard count, item count or shard spec field is out of range. Thrown by `planShards`, `sliceBounds`,
 * `sliceItems`, `countShards` and `shardResources`; `field` names the argument.
 */
export class InvalidShardArgumentError extends Error {
  /** Always `'InvalidShardArgumentError'`. */
  override readonly name = 'InvalidShardArgumentError';
  /**
   * @param field - the argument, e.g. `shardCount` or `maxShards`
   * @param value - the rejected value
   * @param reason - what is wrong
   */
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${field}=${show(value)}: ${reason}`);
  }
}

/** Two shards returned the same key to `qm.merge`. Thrown by `qmMerge`; names the key and both shards. */
export class ShardMergeConflictError extends Error {
  /** Always `'ShardMergeConflictError'`. */
  override readonly name = 'ShardMergeConflictError';
  /**
   * @param key - the conflicting key
   * @param firstShard - index of the shard that set it first
   * @param secondShard - index of the shard that set it again
   */
  constructor(
    readonly key: string,
    readonly firstShard: number,
    readonly secondShard: number,
  ) {
    super(`qm.merge: key "${key}" returned by shard ${firstShard} and shard ${secondShard}`);
  }
}

/**
 * A shard's result has the wrong shape for a built-in reducer (`qm.concat` needs arrays, `qm.sum` finite
 * numbers, `qm.merge` plain objects), or two results carry the same shard index. Thrown by the reducers.
 */
export class ReducerInputError extends Error {
  /** Always `'ReducerInputError'`. */
  override readonly name = 'ReducerInputError';
  /**
   * @param reducer - `qm.concat`, `qm.sum` or `qm.merge`
   * @param shardIndex - the offending shard's index
   * @param expected - what was expected, e.g. `an array`
   * @param value - what the shard returned
   */
  constructor(
    readonly reducer: string,
    readonly shardIndex: number,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`${reducer}: shard ${shardIndex} returned ${show(value)}, expected ${expected}`);
  }
}
