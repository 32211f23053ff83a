import { ApplicationFailure } from '@temporalio/common';
import type { HandlerRegistry } from '../src/handlers/registry';
import type { JsonValue } from '../src/handlers/types';
import { BUILTIN_REDUCERS, isBuiltinReducer } from '../src/sharding/reducers';
import type { ShardCoverage } from '../src/sharding/tracker';

/** One shard's result as the parent gathered it. */
export interface ShardResultInput {
  /** Shard index, 0-based. */
  index: number;
  /** What its handler returned (a value, or a reference such as a URI string for large results). */
  value: JsonValue;
}

/** Input of the `reassembleShards` activity. */
export interface ReassembleInput {
  /** The reducer: `qm.concat`, `qm.sum`, `qm.merge`, or a registered handler's name. */
  reducer: string;
  /** The parent pipeline's workflow id. */
  workflowId: string;
  /** The sharded stage. */
  stageId: string;
  /** The completed shards' results, in index order (the built-ins sort again, so order cannot matter). */
  results: ShardResultInput[];
  /** Which shards (and items) the results cover. */
  coverage: ShardCoverage;
  /** The pipeline's run input. */
  pipelineInput: JsonValue;
}

/** Reducer failures no retry can fix: a wrong result shape, a merge conflict, an unknown handler, bad input. */
const NON_RETRYABLE = new Set([
  'ReducerInputError',
  'ShardMergeConflictError',
  'UnknownHandlerError',
  'InvalidStageInputError',
]);

/**
 * Builds the `reassembleShards` activity: reduces the shards' results with a built-in reducer, or calls a
 * registered handler as a reducer with `input: { results: [{ index, value }…], coverage }` (results in index
 * order; `deps` is `{}`, `allocation` `{}`, `shard` absent). Reducers must be deterministic: a retried
 * activity then returns the same output. A result may be a reference (e.g. a URI the shard wrote its output
 * to); the reducer receives it as is, so large outputs never travel through Temporal's history.
 * Throws (as Temporal failures): the reducer errors above non-retryable; anything else retryable.
 */
export function createReassemble(registry: HandlerRegistry): (input: ReassembleInput) => Promise<JsonValue> {
  return async function reassembleShards(input: ReassembleInput): Promise<JsonValue> {
    try {
      if (isBuiltinReducer(input.reducer)) {
        return BUILTIN_REDUCERS[input.reducer](input.results) as JsonValue;
      }
      const handler = registry.get(input.reducer);
      const output = await handler({
        input: {
          results: input.results.map((r) => ({ index: r.index, value: r.value })),
          coverage: input.coverage as unknown as JsonValue,
        },
        deps: {},
        pipelineInput: input.pipelineInput,
        allocation: {},
        attempt: 1,
        signal: new AbortController().signal,
        workflowId: input.workflowId,
        stageId: input.stageId,
        // A reducer holds no reservation, so nothing is ever offered to it.
        onAllocationOffer: () => () => undefined,
      });
      return output === undefined ? null : output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      throw ApplicationFailure.create({
        message: e.message,
        type: e.name,
        nonRetryable: NON_RETRYABLE.has(e.name),
        cause: e,
      });
    }
  };
}
