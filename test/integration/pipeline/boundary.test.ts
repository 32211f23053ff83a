/**
 * The boundary a user touches, end to end on a real worker **in a child process** (so an argument that
 * crashes a worker fails this test rather than the test run): every bad `pipelineWorkflow` argument fails the
 * run at once with a typed, non-retryable failure (never a workflow task retried for ever), and the run can be
 * found by `QmState = "invalid"` and its `QmPipeline`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineResult } from '../../../src/pipeline/types';
import { findTemporalCli } from '../../../src/services/temporal-cli';
import { spawnWorker, type ChildWorker } from '../../support/child-worker';
import { testEnv, uniqueId } from '../../support/env';

let worker: ChildWorker;
let connection: Connection;
let client: Client;
const taskQueue = uniqueId('qm-boundary');

beforeAll(async () => {
  worker = await spawnWorker(['--task-queue', taskQueue], {
    QM_SCHEDULER_WORKFLOW_ID: `scheduler-${taskQueue}`,
    QM_SCHEMA: `qm_boundary_${taskQueue.slice(-8).replace(/-/g, '')}`,
  });
  connection = await Connection.connect({ address: testEnv.temporalAddress });
  client = new Client({ connection });
}, 120_000);
afterAll(async () => {
  await worker?.kill();
  await connection?.close();
});

const good = (name = 'ok') => ({
  name,
  stages: [{ id: 'a', handler: 'qm.sum', priority: 5, input: { numbers: [1, 2] } }],
});

/** Starts with a raw argument (around `startPipeline`'s own checks) and returns the failure and the run. */
async function failFast(arg: unknown) {
  const workflowId = uniqueId('bad');
  const handle = await client.workflow.start('pipelineWorkflow', { taskQueue, workflowId, args: [arg] });
  const started = Date.now();
  const err = await handle.result().then(
    () => new Error('completed'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.nonRetryable).toBe(true);
  expect(Date.now() - started).toBeLessThan(15_000);
  const described = await handle.describe();
  expect(described.status.name).toBe('FAILED');
  return { failure, described };
}

test('the poison pill (shard count 1e9, always) fails at once and the worker lives on', async () => {
  const { failure } = await failFast({
    definition: {
      name: 'poison',
      stages: [
        {
          id: 'a',
          handler: 'qm.echo',
          priority: 5,
          shard: { by: 'count', count: 1e9, always: true, reassemble: 'qm.concat' },
        },
      ],
    },
  });
  expect(failure.type).toBe('InvalidDefinitionError');
  expect(failure.message).toContain('definition.stages[0].shard.count');
  expect(worker.process.exitCode).toBeNull();
  const result = (await client.workflow.execute('pipelineWorkflow', {
    taskQueue,
    workflowId: uniqueId('after'),
    args: [{ definition: good() }],
  })) as PipelineResult;
  expect(result.stages.a?.output).toBe(3);
  expect(worker.output()).not.toContain('async hook stack');
});

// [what, argument, failure type, text in the message]
test.each<[string, unknown, string, string]>([
  [
    'importance "high" (looped on the search attribute before)',
    { definition: good('hi'), importance: 'high' },
    'InvalidArgumentError',
    'importance: must be a number 0–10 (got "high")',
  ],
  ['importance 99', { definition: good('i99'), importance: 99 }, 'InvalidArgumentError', 'importance'],
  ['importance -5', { definition: good('neg'), importance: -5 }, 'InvalidArgumentError', 'importance'],
  ['importance 1e308', { definition: good('huge'), importance: 1e308 }, 'InvalidArgumentError', 'importance'],
  [
    'an unknown key "inputs"',
    { definition: good('typo'), inputs: {} },
    'InvalidArgumentError',
    'did you mean "input"?',
  ],
  ['a bare definition', good('bare'), 'InvalidArgumentError', 'wrap it: {"definition"'],
  ['null', null, 'InvalidArgumentError', '"definition"'],
  [
    'retry.initialIntervalSeconds 1e308',
    {
      definition: {
        ...good('retry'),
        stages: [{ ...good().stages[0], retry: { initialIntervalSeconds: 1e308 } }],
      },
    },
    'InvalidDefinitionError',
    'initialIntervalSeconds',
  ],
  [
    'timeoutSeconds 1e-9',
    { definition: { ...good('tiny'), stages: [{ ...good().stages[0], timeoutSeconds: 1e-9 }] } },
    'InvalidDefinitionError',
    'timeoutSeconds',
  ],
  [
    'desired cpu 1e308',
    {
      definition: {
        ...good('cpu'),
        stages: [{ ...good().stages[0], resources: { desired: { cpu: 1e308 } } }],
      },
    },
    'InvalidDefinitionError',
    'desired.cpu',
  ],
])('%s fails at once, typed, findable by QmState="invalid"', async (_what, arg, type, text) => {
  const { failure, described } = await failFast(arg);
  expect(failure.type).toBe(type);
  expect(failure.message).toContain(text);
  expect(described.searchAttributes.QmState).toEqual(['invalid']);
  const name =
    (arg as { definition?: { name?: string }; name?: string } | null)?.definition?.name ??
    (arg as { name?: string } | null)?.name;
  if (name !== undefined) expect(described.searchAttributes.QmPipeline).toEqual([name]);
});

test('the raw temporal CLI gets the same typed failure for a bare definition', async () => {
  const workflowId = uniqueId('cli-bare');
  await promisify(execFile)(findTemporalCli({ install: false }), [
    'workflow',
    'start',
    '--address',
    testEnv.temporalAddress,
    '--type',
    'pipelineWorkflow',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(good('cli-bare')),
  ]);
  const err = await client.workflow
    .getHandle(workflowId)
    .result()
    .catch((e: unknown) => e);
  const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(failure.type).toBe('InvalidArgumentError');
  expect(failure.message).toContain('wrap it: {"definition"');
});
