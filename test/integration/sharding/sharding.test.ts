import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import { defineStage } from '../../../src/handlers/registry';
import type { JsonValue } from '../../../src/handlers/types';
import type { PipelineResult } from '../../../src/pipeline/types';
import { shardWorkflowId } from '../../../src/sharding/fan-out';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// One cluster per file: node n1 declared with 4 cores (no monitor), its own ledger schema and scheduler.
let db: Database;
let t: TestTemporal;
const attemptsSeen = new Map<string, number[]>();

function numbers(input: JsonValue): number[] {
  return ((input as { numbers?: number[] }).numbers ?? []) as number[];
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
}

beforeAll(async () => {
  db = await openTestDatabase('qm_shard');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'n1', capacity: { cpu: 4, memoryMb: 8192 }, monitor: false },
    handlers: [
      // Sums its slice; fails for the shard indexes in input.fail (every attempt) and, on the first
      // attempt only, for those in input.flaky; sleeps input.slowMs in the shards in input.slow.
      defineStage('test.shardSum', async ({ input, shard, attempt, signal, workflowId }) => {
        const i = shard?.index ?? -1;
        const o = input as { fail?: number[]; flaky?: number[]; slow?: number[]; slowMs?: number };
        const key = `${workflowId}#${i}`;
        attemptsSeen.set(key, [...(attemptsSeen.get(key) ?? []), attempt]);
        if (o.fail?.includes(i)) throw new Error(`shard ${i} fails on purpose`);
        if (attempt === 1 && o.flaky?.includes(i)) throw new Error(`shard ${i} flakes once`);
        if (o.slow?.includes(i)) await wait(o.slowMs ?? 0, signal);
        return numbers(input).reduce((a, b) => a + b, 0);
      }),
      // Returns [index] (count) or its slice upper-cased (items), earlier shards finishing last.
      defineStage('test.ordered', async ({ input, shard, signal }) => {
        const i = shard?.index ?? 0;
        await wait(((shard?.count ?? 1) - i) * 150, signal);
        const letters = (input as { letters?: string[] }).letters;
        return letters ? letters.map((l) => l.toUpperCase()) : [i];
      }),
      // A registered reducer: the weighted sum Σ (index + 1) · value, to prove it sees indexes in order.
      defineStage('test.reducer', ({ input }) => {
        const { results } = input as { results: Array<{ index: number; value: number }> };
        return results.map((r, pos) => ({ pos, index: r.index, value: r.value }));
      }),
    ],
  });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

async function run(stage: Record<string, unknown>, id = uniqueId('shard')) {
  const handle = await startPipeline(
    t.client,
    { name: id, stages: [{ id: 'work', priority: 5, ...stage }] },
    { taskQueue: t.taskQueue, workflowId: id },
  );
  return { id, handle };
}

async function failure(p: Promise<PipelineResult>): Promise<{ message: string; result: PipelineResult }> {
  const err = await p.then(
    () => {
      throw new Error('expected the pipeline to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  return { message: cause.message, result: cause.details?.[0] as PipelineResult };
}

const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

test('a stage wanting cpu=8 on a cpu=4 node is sharded automatically, runs as children and sums right', async () => {
  const { id, handle } = await run({
    handler: 'qm.sum',
    input: { numbers: oneToTwenty },
    resources: { desired: { cpu: 8 } },
    shard: { by: 'items', field: 'numbers', maxShards: 8, reassemble: 'qm.sum' },
  });
  const result = await pipelineResult(handle);
  const work = result.stages.work;
  expect(result.status).toBe('completed');
  expect(work?.status).toBe('completed');
  expect(work?.output).toBe(210);
  const shards = work?.shards ?? [];
  expect(shards.length).toBeGreaterThanOrEqual(2);
  for (const s of shards) expect(s).toMatchObject({ status: 'completed', node: 'n1', attempts: 1 });
  expect(work?.coverage).toMatchObject({ shards: shards.length, failed: [], missing: [] });
  expect(work?.coverage?.items).toEqual({ total: 20, covered: 20, uncovered: [] });
  // Each shard is a child of the pipeline, with a summary.
  const child = await t.client.workflow.getHandle(shardWorkflowId(id, 'work', 0)).describe();
  expect(child.type).toBe('shardWorkflow');
  expect(child.parentExecution?.workflowId).toBe(id);
  expect(child.status.name).toBe('COMPLETED');
  // Nothing left held or pending: the whole request was withdrawn, every shard released.
  const snap = await snapshot(db, new Date());
  expect(snap.pending).toHaveLength(0);
  expect(snap.nodes.find((n) => n.id === 'n1')?.granted.cpu ?? 0).toBe(0);
});

test('by count with always shards up front even when the stage fits; qm.concat keeps index order', async () => {
  const { handle } = await run({
    handler: 'test.ordered',
    resources: { desired: { cpu: 3 } },
    shard: { by: 'count', count: 3, maxShards: 3, always: true, reassemble: 'qm.concat' },
  });
  const result = await pipelineResult(handle);
  expect(result.stages.work?.output).toEqual([0, 1, 2]);
  expect(result.stages.work?.shards?.map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
});

test('items reassembled with qm.concat come back in item order although earlier shards finish last', async () => {
  const letters = 'abcdefghij'.split('');
  const { handle } = await run({
    handler: 'test.ordered',
    input: { letters },
    resources: { desired: { cpu: 8 } },
    shard: { by: 'items', field: 'letters', maxShards: 5, always: true, reassemble: 'qm.concat' },
  });
  const result = await pipelineResult(handle);
  expect(result.stages.work?.output).toEqual(letters.map((l) => l.toUpperCase()));
  expect(result.stages.work?.shards).toHaveLength(5);
});

test('a registered reducer gets { results: [{ index, value }] } in index order', async () => {
  const { handle } = await run({
    handler: 'test.shardSum',
    input: { numbers: [1, 2, 3, 4, 5, 6], slow: [0], slowMs: 400 },
    shard: { by: 'items', field: 'numbers', maxShards: 3, always: true, reassemble: 'test.reducer' },
  });
  const result = await pipelineResult(handle);
  expect(result.stages.work?.output).toEqual([
    { pos: 0, index: 0, value: 3 },
    { pos: 1, index: 1, value: 7 },
    { pos: 2, index: 2, value: 11 },
  ]);
});

test('partial "allow": a shard that fails for good → stage and pipeline partial, with coverage', async () => {
  const { handle, id } = await run({
    handler: 'test.shardSum',
    input: { numbers: [1, 2, 3, 4, 5, 6, 7, 8], fail: [1] },
    retry: { maximumAttempts: 2, initialIntervalSeconds: 1 },
    resources: { desired: { cpu: 2 } },
    shard: {
      by: 'items',
      field: 'numbers',
      maxShards: 4,
      always: true,
      partial: 'allow',
      reassemble: 'qm.sum',
    },
  });
  const result = await pipelineResult(handle);
  expect(result.status).toBe('partial');
  const work = result.stages.work;
  expect(work?.status).toBe('partial');
  expect(work?.output).toBe(36 - 3 - 4);
  expect(work?.coverage).toEqual({
    shards: 4,
    completed: [0, 2, 3],
    failed: [1],
    missing: [],
    items: { total: 8, covered: 6, uncovered: [{ start: 2, end: 4 }] },
  });
  expect(work?.shards?.[1]).toMatchObject({ status: 'failed', attempts: 2 });
  expect(work?.shards?.[1]?.error).toContain('fails on purpose');
  expect(attemptsSeen.get(`${id}#1`)).toEqual([1, 2]);
  const status = await pipelineStatus(handle);
  expect(status.state).toBe('partial');
});

test('partial "forbid" (the default): a failing shard fails the stage, naming the shard', async () => {
  const { handle } = await run({
    handler: 'test.shardSum',
    input: { numbers: [1, 2, 3, 4, 5, 6, 7, 8], fail: [2] },
    retry: { maximumAttempts: 1 },
    shard: { by: 'items', field: 'numbers', maxShards: 4, always: true, reassemble: 'qm.sum' },
  });
  const { message, result } = await failure(pipelineResult(handle));
  expect(message).toContain('shard 2 failed');
  expect(result.status).toBe('failed');
  expect(result.stages.work?.status).toBe('failed');
  expect(result.stages.work?.error).toContain('shard 2 failed');
  expect(result.stages.work?.coverage?.failed).toEqual([2]);
});

test('a deadline with partial "allow": the late shard is cancelled and what completed is reduced', async () => {
  const { handle } = await run({
    handler: 'test.shardSum',
    input: { numbers: [1, 2, 3, 4], slow: [3], slowMs: 60_000 },
    deadlineSeconds: 3,
    shard: {
      by: 'items',
      field: 'numbers',
      maxShards: 4,
      always: true,
      partial: 'allow',
      reassemble: 'qm.sum',
    },
  });
  const result = await pipelineResult(handle);
  expect(result.status).toBe('partial');
  expect(result.stages.work?.output).toBe(6);
  expect(result.stages.work?.coverage).toMatchObject({ completed: [0, 1, 2], failed: [], missing: [3] });
  expect(result.stages.work?.shards?.[3]?.status).toBe('cancelled');
});

test('a retried shard does not duplicate its result', async () => {
  const { handle, id } = await run({
    handler: 'test.shardSum',
    input: { numbers: oneToTwenty, flaky: [0, 1] },
    retry: { maximumAttempts: 3, initialIntervalSeconds: 1 },
    resources: { desired: { cpu: 8 } },
    shard: { by: 'items', field: 'numbers', maxShards: 4, reassemble: 'qm.sum' },
  });
  const result = await pipelineResult(handle);
  expect(result.stages.work?.output).toBe(210);
  expect(result.stages.work?.shards?.[0]).toMatchObject({ status: 'completed', attempts: 2 });
  expect(attemptsSeen.get(`${id}#0`)).toEqual([1, 2]);
});
