/**
 * The built-in reassemblers, pure: `qm.concat` (arrays, in shard order), `qm.sum` (numbers), `qm.merge`
 * (plain objects; a key set by two shards is an error). Each takes the shards' outputs in any order and
 * sorts them by index, so a retried or out-of-order gather gives the same result. Over zero outputs they
 * return their identity (`[]`, `0`, `{}`): that is what an empty item list (zero shards) reduces to.
 */
import { ReducerInputError, ShardMergeConflictError } from './errors';

/** One shard's result. */
export interface ShardOutput {
  /** Shard index, 0-based (unique). */
  readonly index: number;
  /** What its handler returned. */
  readonly value: unknown;
}

/** A built-in reducer. */
export type Reducer = (outputs: readonly ShardOutput[]) => unknown;

function ordered(reducer: string, outputs: readonly ShardOutput[]): ShardOutput[] {
  const sorted = [...outputs].sort((a, b) => a.index - b.index);
  for (let i = 1; i < sorted.length; i++) {
    const o = sorted[i] as ShardOutput;
    if (o.index === (sorted[i - 1] as ShardOutput).index) {
      throw new ReducerInputError(reducer, o.index, 'one result per shard index', o.value);
    }
  }
  return sorted;
}

/**
 * `qm.concat`: the shards' arrays concatenated in index order.
 * @throws ReducerInputError when a result is not an array or an index repeats.
 */
export function qmConcat(outputs: readonly ShardOutput[]): unknown[] {
  const out: unknown[] = [];
  for (const o of ordered('qm.concat', outputs)) {
    if (!Array.isArray(o.value)) throw new ReducerInputError('qm.concat', o.index, 'an array', o.value);
    for (const item of o.value as unknown[]) out.push(item);
  }
  return out;
}

/**
 * `qm.sum`: the sum of the shards' numbers.
 * @throws ReducerInputError when a result is not a finite number or an index repeats.
 */
export function qmSum(outputs: readonly ShardOutput[]): number {
  let sum = 0;
  for (const o of ordered('qm.sum', outputs)) {
    if (typeof o.value !== 'number' || !Number.isFinite(o.value)) {
      throw new ReducerInputError('qm.sum', o.index, 'a finite number', o.value);
    }
    sum += o.value;
  }
  return sum;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * `qm.merge`: the shards' objects merged into one (keys in shard order). Any key returned by two shards is
 * a conflict, even with equal values, so a mis-sharded input cannot pass silently.
 * @throws ShardMergeConflictError naming the key and both shards; ReducerInputError for a non-object
 *   result or a repeated index.
 */
export function qmMerge(outputs: readonly ShardOutput[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const owner = new Map<string, number>();
  for (const o of ordered('qm.merge', outputs)) {
    if (!isPlainObject(o.value)) throw new ReducerInputError('qm.merge', o.index, 'a plain object', o.value);
    for (const [key, value] of Object.entries(o.value)) {
      const first = owner.get(key);
      if (first !== undefined) throw new ShardMergeConflictError(key, first, o.index);
      owner.set(key, o.index);
      out[key] = value;
    }
  }
  return out;
}

/** The built-in reducers by name. */
export const BUILTIN_REDUCERS: Readonly<Record<'qm.concat' | 'qm.sum' | 'qm.merge', Reducer>> = Object.freeze(
  {
    'qm.concat': qmConcat,
    'qm.sum': qmSum,
    'qm.merge': qmMerge,
  },
);

/** True when `name` is a built-in reducer (`qm.concat`, `qm.sum`, `qm.merge`). */
export function isBuiltinReducer(name: string): name is keyof typeof BUILTIN_REDUCERS {
  return Object.prototype.hasOwnProperty.call(BUILTIN_REDUCERS, name);
}
