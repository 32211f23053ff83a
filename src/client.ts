import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from './config';
import type { PipelineDefinition } from './definition/types';
import { InvalidDefinitionError } from './definition/errors';
import { assertValidDefinition } from './definition/validate';
import { validatePipelineArgs } from './pipeline/workflow-args';
import { DEFINITION_VERSION_MEMO } from './pipeline/definition-version';
import { makeIssue } from './definition/issues';
import type { JsonValue } from './handlers/types';
import type { PipelineInput, PipelineResult, PipelineStatus } from './pipeline/types';

/** Options for {@link startPipeline}. */
export interface StartPipelineOptions {
  /** Run input, given to handlers as `pipelineInput`. @default null */
  input?: JsonValue;
  /** Overrides the definition's base importance. */
  importance?: number;
  /** Workflow id. @default `<name>-<8 hex chars>` */
  workflowId?: string;
  /** @default 'quartermaster' */
  taskQueue?: string;
  /**
   * The registered version `definition` is (from `qm register` / `getDefinition`): kept in the workflow's memo
   * so execution records name it. @default none (a definition from a file: records say "unknown")
   */
  definitionVersion?: number;
}

/**
 * Validates a definition (so mistakes surface before anything starts) and starts `pipelineWorkflow`.
 * Equivalent to `temporal workflow start --type pipelineWorkflow --task-queue quartermaster --input '{"definition":…}'`.
 * @throws InvalidDefinitionError listing every problem (of the definition, or of `importance` / `input` /
 *   `definitionVersion`);
 *   WorkflowExecutionAlreadyStartedError for a taken id.
 */
export async function startPipeline(
  client: Client,
  definition: unknown,
  options: StartPipelineOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const valid: PipelineDefinition = assertValidDefinition(definition);
  const args: PipelineInput = { definition: valid };
  if (options.input !== undefined) args.input = options.input;
  if (options.importance !== undefined) args.importance = options.importance;
  // The same check the workflow makes first (importance 0–10, JSON input), so mistakes surface here.
  const checked = validatePipelineArgs(args);
  if (!checked.ok) throw new InvalidDefinitionError(checked.issues);
  const version = options.definitionVersion;
  if (version !== undefined && (!Number.isInteger(version) || version < 1))
    throw new InvalidDefinitionError([
      makeIssue('invalid_value', ['definitionVersion'], `must be an integer >= 1 (got ${String(version)})`),
    ]);
  return client.workflow.start('pipelineWorkflow', {
    args: [args],
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? `${valid.name}-${randomUUID().slice(0, 8)}`,
    staticSummary: `${valid.name}: ${valid.stages.length} stage${valid.stages.length === 1 ? '' : 's'}`,
    ...(version === undefined ? {} : { memo: { [DEFINITION_VERSION_MEMO]: version } }),
  });
}

/**
 * The `status` query of a pipeline.
 * @throws QueryNotRegisteredError / WorkflowNotFoundError from the SDK.
 */
export function pipelineStatus(handle: WorkflowHandle): Promise<PipelineStatus> {
  return handle.query<PipelineStatus>('status');
}

/**
 * Waits for a pipeline's result. A failed pipeline rejects with `WorkflowFailedError` whose
 * `cause` is an ApplicationFailure `PipelineFailedError` carrying the {@link PipelineResult} as `details[0]`.
 */
export function pipelineResult(handle: WorkflowHandle): Promise<PipelineResult> {
  return handle.result() as Promise<PipelineResult>;
}
