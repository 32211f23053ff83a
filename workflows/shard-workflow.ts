import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { qmPipelineKey, qmStateKey } from '../src/search-attributes';
import { definitionVersionFromMemo } from '../src/pipeline/definition-version';
import type { StageDefinition } from '../src/definition/types';
import type { JsonValue, ShardContext } from '../src/handlers/types';
import { shardArgsRejection } from './args-check';
import { SHARD_RESULT_TOO_LARGE, shardResultProblem } from '../src/sharding/result-size';
import { admissionProgressSignal, DESCRIPTIONS, shardProgressSignal } from './messages';
import { runStageWithAdmission } from './stage-runner';

/** The single argument of `shardWorkflow`, built by the parent pipeline. */
export interface ShardWorkflowInput {
  /** The stage as this shard runs it: its `resources` are the shard's own; no `shard` spec. */
  stage: StageDefinition;
  /** Which shard this is. */
  shard: ShardContext;
  /** The shard's handler input (its slice, for `by: "items"`). */
  input: JsonValue;
  /** Outputs of the stage's dependencies. */
  deps: Record<string, JsonValue>;
  /** The pipeline's run input. */
  pipelineInput: JsonValue;
  /** The pipeline's importance when the shard started. */
  importance: number;
  /** The parent pipeline's workflow id (the `workflowId` handlers see, and where progress goes). */
  parentWorkflowId: string;
  /** When the stage's own request was made (ISO-8601): the shard's age counts from here. @default now */
  readySince?: string;
}

/** What a shard returns to its parent. */
export interface ShardWorkflowResult {
  /** Shard index. */
  index: number;
  /** The handler's output (a value or a reference such as a URI). */
  output: JsonValue;
  /** The attempt that produced it. */
  attempts: number;
  /** The node it ran on. */
  node?: string;
}

/**
 * One shard of a sharded stage, started by the pipeline as a child: requests its own reservation (at the
 * stage's priority and the pipeline's importance, with the shard's resources), waits durably for the
 * scheduler, runs the stage's handler with `shard: { index, count }` on the granted node, releases, and
 * retries by the stage's policy (re-admitting each attempt). Reports each attempt's node to the parent.
 * @throws ApplicationFailure `ShardFailedError` (non-retryable; details[0]: `{ index, attempts }`) when
 *   every attempt failed; `ShardResultTooLargeError` when its output is over 64 KiB of JSON (return a
 *   reference instead); `InvalidArgumentError` for a bad argument.
 */
export async function shardWorkflow(args: ShardWorkflowInput): Promise<ShardWorkflowResult> {
  // A shard's wait reasons are not shown anywhere yet (its parent's table shows shard states); accept and
  // drop them so the signal never fails a task.
  setHandler(admissionProgressSignal, () => undefined, { description: DESCRIPTIONS.admissionProgress });
  // The whole argument is checked first: a bad one fails the shard at once, never its workflow task.
  const rejected = await shardArgsRejection(args);
  if (rejected !== null)
    throw ApplicationFailure.create({
      type: rejected.type,
      message: rejected.message,
      nonRetryable: true,
      details: [rejected.issues],
    });
  const { stage, shard } = args;
  const parent = getExternalWorkflowHandle(workflowInfo().parent?.workflowId ?? args.parentWorkflowId);
  // The pipeline's definition, for the shard's execution records: its name is the QmPipeline search attribute
  // the parent started it with, its registered version the memo the parent passed on.
  const pipelineName = workflowInfo().typedSearchAttributes.get(qmPipelineKey);
  const definitionVersion = definitionVersionFromMemo(workflowInfo().memo);
  const outcome = await runStageWithAdmission(
    stage,
    {
      workflowId: args.parentWorkflowId,
      stageId: stage.id,
      handler: stage.handler,
      input: args.input,
      deps: args.deps,
      pipelineInput: args.pipelineInput,
      shard,
      ...(pipelineName === undefined
        ? {}
        : {
            definition: {
              name: pipelineName,
              ...(definitionVersion === undefined ? {} : { version: definitionVersion }),
            },
          }),
    },
    () => args.importance,
    {
      waiting: () => undefined,
      started: (admission, attempt) => {
        // Progress is best effort: a parent that is gone or closed changes nothing here.
        void parent
          .signal(shardProgressSignal, {
            stageId: stage.id,
            index: shard.index,
            attempt,
            ...(admission.nodeId === undefined ? {} : { node: admission.nodeId }),
          })
          .catch(() => undefined);
      },
    },
    undefined,
    args.readySince,
  );
  upsertSearchAttributes([{ key: qmStateKey, value: outcome.kind === 'completed' ? 'completed' : 'failed' }]);
  if (outcome.kind === 'completed') {
    const tooLarge = shardResultProblem(stage.id, shard.index, outcome.result.output);
    if (tooLarge !== undefined) {
      upsertSearchAttributes([{ key: qmStateKey, value: 'failed' }]);
      throw ApplicationFailure.create({
        type: SHARD_RESULT_TOO_LARGE,
        message: tooLarge,
        nonRetryable: true,
        details: [{ index: shard.index, attempts: outcome.result.attempt }],
      });
    }
    return {
      index: shard.index,
      output: outcome.result.output,
      attempts: outcome.result.attempt,
      ...(outcome.admission.nodeId === undefined ? {} : { node: outcome.admission.nodeId }),
    };
  }
  throw ApplicationFailure.create({
    type: 'ShardFailedError',
    message:
      outcome.kind === 'failed'
        ? `shard ${shard.index} of "${stage.id}" failed: ${outcome.message}`
        : `shard ${shard.index} of "${stage.id}" was asked to shard again`,
    nonRetryable: true,
    details: [{ index: shard.index, attempts: outcome.attempts }],
  });
}
