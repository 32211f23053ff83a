import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { QuartermasterActivities, RunStageFailureDetails } from '../activities';
import type { StageDefinition } from '../src/definition/types';
import { validateDefinition } from '../src/definition/validate';
import { formatIssue } from '../src/definition/validate';
import { NON_RETRYABLE_HANDLER_ERRORS } from '../src/handlers/errors';
import type { JsonValue } from '../src/handlers/types';
import { PipelineRun } from '../src/pipeline/run-state';
import type { PipelineInput, PipelineResult } from '../src/pipeline/types';
import { qmImportanceKey, qmPipelineKey, qmPriorityKey, qmStateKey } from '../src/search-attributes';
import { statusQuery } from './messages';

const DEFAULT_TIMEOUT_SECONDS = 600;

function stageActivities(stage: StageDefinition) {
  const retry = stage.retry ?? {};
  return proxyActivities<QuartermasterActivities>({
    taskQueue: workflowInfo().taskQueue,
    startToCloseTimeout: `${stage.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s`,
    heartbeatTimeout: '30s',
    retry: {
      maximumAttempts: retry.maximumAttempts ?? 3,
      initialInterval: `${retry.initialIntervalSeconds ?? 1}s`,
      backoffCoefficient: retry.backoffCoefficient ?? 2,
      maximumInterval: `${retry.maximumIntervalSeconds ?? 30}s`,
      nonRetryableErrorTypes: [...NON_RETRYABLE_HANDLER_ERRORS],
    },
  });
}

function describeFailure(err: unknown): { message: string; attempts?: number } {
  let cause: unknown = err;
  if (err instanceof ActivityFailure) cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as RunStageFailureDetails | undefined;
    const type = cause.type ? `${cause.type}: ` : '';
    return { message: `${type}${cause.message}`, attempts: details?.attempt };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/**
 * Runs a pipeline: validates its definition, then runs stages in dependency order, independent stages
 * concurrently, each as a `runStage` activity. Queryable with `status`; the Web UI shows a stage table.
 * @returns the result with every stage's status, attempts, times and output.
 * @throws ApplicationFailure `InvalidDefinitionError` (non-retryable, details: the issues) for a bad
 *   definition; `PipelineFailedError` (details[0]: the {@link PipelineResult}) when a stage fails.
 */
export async function pipelineWorkflow(args: PipelineInput): Promise<PipelineResult> {
  const validation = validateDefinition(args?.definition);
  if (!validation.ok) {
    throw ApplicationFailure.create({
      type: 'InvalidDefinitionError',
      message: `invalid pipeline definition:\n${validation.issues.map(formatIssue).join('\n')}`,
      nonRetryable: true,
      details: [validation.issues],
    });
  }
  const definition = validation.definition;
  const importance = args.importance ?? definition.importance ?? 0;
  const run = new PipelineRun(definition, importance);
  setHandler(statusQuery, () => run.status());

  const publish = (): void => {
    upsertSearchAttributes([{ key: qmStateKey, value: run.overall() }]);
    setCurrentDetails(run.markdown());
  };
  upsertSearchAttributes([
    { key: qmPipelineKey, value: definition.name },
    { key: qmPriorityKey, value: run.highestPriority() },
    { key: qmImportanceKey, value: importance },
  ]);
  publish();

  const pipelineInput: JsonValue = args.input ?? null;
  const inFlight = new Map<string, Promise<void>>();

  const runStage = async (stage: StageDefinition): Promise<void> => {
    const allocation = stage.resources?.desired ?? {};
    run.started(stage.id, new Date(), allocation);
    publish();
    try {
      const { output, attempt } = await stageActivities(stage).runStage({
        workflowId: workflowInfo().workflowId,
        stageId: stage.id,
        handler: stage.handler,
        input: (stage.input ?? {}) as JsonValue,
        deps: run.depsOutputs(stage),
        pipelineInput,
        allocation,
      });
      run.completed(stage.id, new Date(), output, attempt);
    } catch (err) {
      const { message, attempts } = describeFailure(err);
      run.failedStage(stage.id, new Date(), message, attempts ?? stage.retry?.maximumAttempts ?? 3);
    }
    publish();
  };

  for (;;) {
    for (const stage of run.ready()) {
      inFlight.set(
        stage.id,
        runStage(stage).finally(() => inFlight.delete(stage.id)),
      );
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }

  run.skipRemaining();
  publish();
  const result = run.result();
  if (result.status === 'failed') {
    const failed = run.failedStages();
    const first = failed[0] === undefined ? undefined : run.state(failed[0]);
    throw ApplicationFailure.create({
      type: 'PipelineFailedError',
      message: `stage ${failed.map((id) => `"${id}"`).join(', ')} failed: ${first?.error ?? 'unknown error'}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
