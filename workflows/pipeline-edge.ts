/**
 * The pipeline workflow's edge: what it does with an argument that fails validation. Kept apart from the
 * stage loop so the loop and the boundary change independently.
 */
import { ApplicationFailure, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { ArgsRejection } from '../src/pipeline/args-failure';
import { qmPipelineKey, qmStateKey } from '../src/search-attributes';

/**
 * Fails the workflow at once for a rejected argument: sets `QmState = "invalid"` (and `QmPipeline` when the
 * argument names the pipeline with a string) so the run can be found, shows the issues as the Web UI's
 * current details, and throws a non-retryable `InvalidArgumentError` / `InvalidDefinitionError` whose
 * `details[0]` lists the issues (bounded, without the bad values). Never a workflow-task failure.
 */
export function rejectPipelineArgs(checked: ArgsRejection): never {
  const { message, issues } = checked;
  upsertSearchAttributes([
    { key: qmStateKey, value: 'invalid' },
    ...(checked.pipelineName === undefined ? [] : [{ key: qmPipelineKey, value: checked.pipelineName }]),
  ]);
  setCurrentDetails(
    [
      `**${checked.pipelineName ?? 'pipeline'}** — invalid (${checked.type})`,
      '',
      '```',
      ...message.split('\n').slice(1),
      '```',
    ].join('\n'),
  );
  throw ApplicationFailure.create({ type: checked.type, message, nonRetryable: true, details: [issues] });
}
