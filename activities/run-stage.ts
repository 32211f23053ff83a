import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ResourceVector } from '../src/definition/types';
import { NON_RETRYABLE_HANDLER_ERRORS } from '../src/handlers/errors';
import type { HandlerRegistry } from '../src/handlers/registry';
import type { JsonValue, ShardContext } from '../src/handlers/types';

/** Input of the `runStage` activity: everything a handler needs, as JSON. */
export interface RunStageInput {
  workflowId: string;
  stageId: string;
  handler: string;
  input: JsonValue;
  deps: Record<string, JsonValue>;
  pipelineInput: JsonValue;
  allocation: ResourceVector;
  shard?: ShardContext;
}

/** Result of `runStage`: the handler's output and the attempt that produced it. */
export interface RunStageResult {
  output: JsonValue;
  attempt: number;
}

/** Details attached to every failure `runStage` raises, so the workflow can report attempts. */
export interface RunStageFailureDetails {
  attempt: number;
  stageId: string;
}

/** How often a running handler heartbeats (Temporal throttles further). */
const HEARTBEAT_EVERY_MS = 1000;

/**
 * Builds the `runStage` activity over a handler registry: runs the named handler with its context,
 * heartbeating while it runs so cancellation reaches it.
 * Throws (as Temporal failures): `UnknownHandlerError` / `InvalidStageInputError` non-retryable;
 * any other handler error retryable, with `{ attempt, stageId }` details.
 */
export function createRunStage(registry: HandlerRegistry): (input: RunStageInput) => Promise<RunStageResult> {
  return async function runStage(input: RunStageInput): Promise<RunStageResult> {
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const details: RunStageFailureDetails = { attempt, stageId: input.stageId };
    const beat = setInterval(() => ctx.heartbeat({ attempt }), HEARTBEAT_EVERY_MS);
    try {
      const handler = registry.get(input.handler);
      const output = await handler({
        input: input.input,
        deps: input.deps,
        pipelineInput: input.pipelineInput,
        allocation: input.allocation,
        ...(input.shard ? { shard: input.shard } : {}),
        attempt,
        signal: ctx.cancellationSignal,
        workflowId: input.workflowId,
        stageId: input.stageId,
      });
      return { output: output === undefined ? null : output, attempt };
    } catch (err) {
      if (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      throw ApplicationFailure.create({
        message: e.message,
        type: e.name,
        nonRetryable: NON_RETRYABLE_HANDLER_ERRORS.includes(e.name),
        details: [details],
        cause: e,
      });
    } finally {
      clearInterval(beat);
    }
  };
}
