import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import { defineStage } from '../../../src/handlers/registry';
import type { PipelineResult } from '../../../src/pipeline/types';
import { findTemporalCli } from '../../../src/services/temporal-cli';
import { testEnv, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

const fast = { initialIntervalSeconds: 0.1, backoffCoefficient: 1 };

let t: TestTemporal;

beforeAll(async () => {
  t = await startTestWorker({
    handlers: [defineStage('test.double', ({ deps }) => Object.values(deps).map((v) => (v as number) * 2))],
  });
});
afterAll(() => t.close());

function start(definition: unknown, options: { input?: unknown; workflowId?: string } = {}) {
  return startPipeline(t.client, definition, {
    taskQueue: t.taskQueue,
    workflowId: options.workflowId ?? uniqueId('pipe'),
    input: options.input as never,
  });
}

function failureOf(err: unknown): ApplicationFailure {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

test('a diamond DAG completes with every output passed along', async () => {
  const def: PipelineDefinition = {
    name: 'diamond',
    stages: [
      { id: 'a', handler: 'qm.sum', priority: 5, input: { numbers: [1, 2, 3] } },
      { id: 'b', handler: 'qm.sum', priority: 5, dependsOn: ['a'], input: { numbers: [10] } },
      { id: 'c', handler: 'test.double', priority: 5, dependsOn: ['a'] },
      { id: 'd', handler: 'qm.echo', priority: 5, dependsOn: ['b', 'c'], input: { k: 'v' } },
    ],
  };
  const result = await pipelineResult(await start(def, { input: { run: 7 } }));
  expect(result.status).toBe('completed');
  expect(result.stages.a?.output).toBe(6);
  expect(result.stages.b?.output).toBe(10);
  expect(result.stages.c?.output).toEqual([12]);
  expect(result.stages.d?.output).toMatchObject({
    input: { k: 'v' },
    deps: { b: 10, c: [12] },
    pipelineInput: { run: 7 },
  });
  for (const id of ['a', 'b', 'c', 'd']) {
    expect(result.stages[id]).toMatchObject({ status: 'completed', attempts: 1 });
    expect(Date.parse(result.stages[id]?.startedAt ?? '')).not.toBeNaN();
  }
  // d starts only after both b and c completed
  const dStart = Date.parse(result.stages.d?.startedAt ?? '');
  expect(dStart).toBeGreaterThanOrEqual(Date.parse(result.stages.b?.completedAt ?? ''));
  expect(dStart).toBeGreaterThanOrEqual(Date.parse(result.stages.c?.completedAt ?? ''));
});

test('two independent 1 s sleeps run concurrently', async () => {
  const def = {
    name: 'parallel',
    stages: [
      { id: 's1', handler: 'qm.sleep', priority: 3, input: { ms: 1000 } },
      { id: 's2', handler: 'qm.sleep', priority: 3, input: { ms: 1000 } },
    ],
  };
  const r = await pipelineResult(await start(def));
  const [s1, s2] = [r.stages.s1, r.stages.s2].map((s) => ({
    start: Date.parse(s?.startedAt ?? ''),
    end: Date.parse(s?.completedAt ?? ''),
  }));
  // overlap: each starts before the other ends
  expect(s1!.start).toBeLessThan(s2!.end);
  expect(s2!.start).toBeLessThan(s1!.end);
  expect(Math.max(s1!.end, s2!.end) - Math.min(s1!.start, s2!.start)).toBeLessThan(1900);
});

test('qm.fail retries, then succeeds; the attempts are reported', async () => {
  const def = {
    name: 'flaky',
    stages: [
      {
        id: 'f',
        handler: 'qm.fail',
        priority: 5,
        input: { failTimes: 2 },
        retry: { maximumAttempts: 3, ...fast },
      },
    ],
  };
  const r = await pipelineResult(await start(def));
  expect(r.stages.f).toMatchObject({ status: 'completed', attempts: 3, output: { attempts: 3 } });
});

test('exhausting retries fails the pipeline, naming the stage; dependents are skipped', async () => {
  const def = {
    name: 'doomed',
    stages: [
      { id: 'ok', handler: 'qm.echo', priority: 5 },
      {
        id: 'broken',
        handler: 'qm.fail',
        priority: 5,
        input: { failTimes: 9 },
        retry: { maximumAttempts: 2, ...fast },
      },
      { id: 'after', handler: 'qm.echo', priority: 5, dependsOn: ['broken'] },
    ],
  };
  const handle = await start(def);
  const err = await handle.result().catch((e: unknown) => e);
  const failure = failureOf(err);
  expect(failure.type).toBe('PipelineFailedError');
  expect(failure.message).toContain('"broken"');
  const result = failure.details?.[0] as PipelineResult;
  expect(result.status).toBe('failed');
  expect(result.stages.broken).toMatchObject({ status: 'failed', attempts: 2 });
  expect(result.stages.after?.status).toBe('skipped');
  expect(result.stages.ok?.status).toBe('completed');
  const described = await handle.describe();
  expect(described.status.name).toBe('FAILED');
});

test('an unknown handler fails at once, non-retryable, naming it', async () => {
  const def = { name: 'typo', stages: [{ id: 'x', handler: 'qm.slep', priority: 5 }] };
  const failure = failureOf(await (await start(def)).result().catch((e: unknown) => e));
  const result = failure.details?.[0] as PipelineResult;
  expect(result.stages.x).toMatchObject({ status: 'failed', attempts: 1 });
  expect(result.stages.x?.error).toContain('unknown stage handler "qm.slep"');
});

test('an invalid definition sent around the client fails fast with the issues', async () => {
  const handle = await t.client.workflow.start('pipelineWorkflow', {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('bad'),
    args: [{ definition: { name: 'bad', stages: [{ id: 'a', handler: 'qm.echo', priority: 11 }] } }],
  });
  const failure = failureOf(await handle.result().catch((e: unknown) => e));
  expect(failure.type).toBe('InvalidDefinitionError');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('stages[0].priority');
});

test('the status query reports a running stage; search attributes and details are set', async () => {
  const def = {
    name: 'observable',
    stages: [
      { id: 'quick', handler: 'qm.echo', priority: 4 },
      { id: 'slow', handler: 'qm.sleep', priority: 8, dependsOn: ['quick'], input: { ms: 3000 } },
    ],
  };
  const handle = await start(def);
  let status = await pipelineStatus(handle);
  for (let i = 0; i < 50 && status.stages.slow?.status !== 'running'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await pipelineStatus(handle);
  }
  expect(status.state).toBe('running');
  expect(status.stages.quick?.status).toBe('completed');
  expect(status.stages.slow?.status).toBe('running');
  // The attempt in progress counts (it read 0 before).
  expect(status.stages.slow?.attempts).toBe(1);
  // The Web UI's current details: a headline and an aligned stage table in a fenced block.
  const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  expect(metadata.currentDetails).toContain('**observable** — running · 1/2 stages done');
  expect(metadata.currentDetails).toMatch(/```text\nSTAGE +PRIO +STATUS +ATTEMPTS +NODE +ALLOCATION/);
  expect(metadata.currentDetails).toMatch(/^slow +8 +running +1/m);
  const definitions = (await handle.query('__temporal_workflow_metadata')) as {
    definition?: { signalDefinitions?: Array<{ name: string; description?: string }> };
  };
  for (const signal of definitions.definition?.signalDefinitions ?? [])
    expect(signal.description ?? '').not.toBe('');
  expect(
    definitions.definition?.signalDefinitions?.find((d) => d.name === 'admissionProgress')?.description,
  ).toContain('Internal');

  const running = await handle.describe();
  expect(running.typedSearchAttributes.get({ name: 'QmPipeline', type: 'KEYWORD' } as never)).toBe(
    'observable',
  );
  expect(running.searchAttributes.QmPriority).toEqual([8]);
  expect(running.searchAttributes.QmState).toEqual(['running']);

  await handle.result();
  const done = await handle.describe();
  expect(done.searchAttributes.QmState).toEqual(['completed']);
});

test('a stage with resources on a worker without a database fails at once, saying what to set', async () => {
  const def = {
    name: 'no-ledger',
    stages: [{ id: 'a', handler: 'qm.echo', priority: 2, resources: { desired: { cpu: 2, memoryMb: 300 } } }],
  };
  const failure = failureOf(await (await start(def)).result().catch((e: unknown) => e));
  const result = failure.details?.[0] as PipelineResult;
  expect(result.stages.a?.status).toBe('failed');
  expect(result.stages.a?.error).toContain('DATABASE_URL');
});

test('a pipeline started by the temporal CLI with JSON input completes', async () => {
  const workflowId = uniqueId('cli');
  const input = JSON.stringify({
    definition: {
      name: 'from-cli',
      stages: [{ id: 'sum', handler: 'qm.sum', priority: 5, input: { numbers: [4, 5] } }],
    },
  });
  const { stdout } = await promisify(execFile)(findTemporalCli({ install: false }), [
    'workflow',
    'execute',
    '--address',
    testEnv.temporalAddress,
    '--type',
    'pipelineWorkflow',
    '--task-queue',
    t.taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    input,
    '--output',
    'json',
  ]);
  expect(stdout).toContain('"status": "completed"');
  const result = (await t.client.workflow.getHandle(workflowId).result()) as PipelineResult;
  expect(result.stages.sum?.output).toBe(9);
});

test('a cancelled pipeline says so: stages cancelled, state cancelled, QmState "cancelled"', async () => {
  const def = {
    name: 'cancel-me',
    stages: [
      { id: 'long', handler: 'qm.sleep', priority: 5, input: { ms: 30_000 } },
      { id: 'after', handler: 'qm.echo', priority: 5, dependsOn: ['long'] },
    ],
  };
  const handle = await start(def);
  let status = await pipelineStatus(handle);
  for (let i = 0; i < 50 && status.stages.long?.status !== 'running'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await pipelineStatus(handle);
  }
  await handle.cancel();
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  expect((await handle.describe()).searchAttributes.QmState).toEqual(['cancelled']);
  const after = await pipelineStatus(handle);
  expect(after.state).toBe('cancelled');
  expect(after.stages.long?.status).toBe('cancelled');
  expect(after.stages.after?.status).toBe('cancelled');
});
