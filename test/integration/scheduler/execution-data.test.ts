import { pipelineResult, startPipeline } from '../../../src/client';
import { estimatesOutput, historyOutput } from '../../../src/cli/commands/executions';
import { main } from '../../../src/cli/main';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { listExecutions, listRunEstimates } from '../../../src/ledger/executions';
import { snapshot } from '../../../src/ledger/snapshot';
import type { ReservationRecord } from '../../../src/ledger/types';
import type { ExecutionRecord } from '../../../src/execution/record';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { until } from '../../support/poll';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// Execution data end to end (real Temporal dev server, real PostgreSQL): pipelines run through the plugin's
// workflows and activities, and every stage attempt — completed, failed, cancelled, sharded — leaves exactly
// one record; a stage that declares no run time but ran before is backfilled into a hold on its learned time.

const gates = new Map<string, () => void>();

/** Runs until the test opens its gate or 60 s pass; stops with an error when aborted (cancelled). */
const gated = defineStage('test.gated', async ({ workflowId, signal }) => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 60_000);
    gates.set(workflowId, () => {
      clearTimeout(timer);
      resolve();
    });
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
  return null;
});

const failing = defineStage('test.fails', async () => {
  throw new Error('this stage always fails');
});

/** A shard's index, as a one-element array (for qm.concat). */
const shardIndex = defineStage('test.index', async ({ shard }) => [shard?.index ?? -1]);

let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_execdata');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'x1', capacity: { cpu: 4 }, monitor: false },
    handlers: [gated, failing, shardIndex],
  });
});
afterAll(async () => {
  for (const open of gates.values()) open();
  await t.close();
  await dropSchema(db);
});

function oneStage(name: string, handler: string, priority: number, cpu: number, extra: object = {}) {
  return { name, stages: [{ id: 'work', handler, priority, resources: { desired: { cpu } }, ...extra }] };
}

async function recordsOf(prefix: string): Promise<ExecutionRecord[]> {
  return (await listExecutions(db, { limit: 1000 }))
    .filter((r) => r.workflowId.startsWith(prefix))
    .sort((a, b) => a.attempt - b.attempt || (a.shardIndex ?? -1) - (b.shardIndex ?? -1));
}

async function reservationOf(workflowId: string): Promise<ReservationRecord | undefined> {
  const snap = await snapshot(db, new Date());
  return [...snap.pending, ...snap.active].find((r) => r.workflowId === workflowId);
}

test('completed, failed (each attempt), cancelled and sharded stages: exactly one record per attempt', async () => {
  const ok = await startPipeline(t.client, oneStage('rec-ok', 'qm.echo', 5, 1), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('rec-ok'),
    definitionVersion: 4,
  });
  const bad = await startPipeline(
    t.client,
    oneStage('rec-bad', 'test.fails', 5, 1, { retry: { maximumAttempts: 2, initialIntervalSeconds: 1 } }),
    { taskQueue: t.taskQueue, workflowId: uniqueId('rec-bad') },
  );
  const sharded = await startPipeline(
    t.client,
    oneStage('rec-shards', 'test.index', 5, 1, {
      shard: { by: 'count', count: 3, maxShards: 3, always: true, reassemble: 'qm.concat' },
    }),
    { taskQueue: t.taskQueue, workflowId: uniqueId('rec-shards'), definitionVersion: 2 },
  );
  const doomed = await startPipeline(t.client, oneStage('rec-cancel', 'test.gated', 5, 1), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('rec-cancel'),
  });
  expect((await pipelineResult(ok)).status).toBe('completed');
  expect((await pipelineResult(sharded)).status).toBe('completed');
  await pipelineResult(bad).catch(() => undefined);
  await until(
    'the gated stage to run',
    async () => ((await reservationOf(doomed.workflowId))?.state === 'running' ? true : undefined),
    30_000,
  );
  await doomed.cancel();
  await pipelineResult(doomed).catch(() => undefined);
  await until(
    'the cancelled attempt to be recorded',
    async () => ((await recordsOf(doomed.workflowId)).length > 0 ? true : undefined),
    30_000,
  );

  const okRecords = await recordsOf(ok.workflowId);
  expect(okRecords).toHaveLength(1);
  expect(okRecords[0]).toMatchObject({
    definitionName: 'rec-ok',
    definitionVersion: 4,
    stageId: 'work',
    shardIndex: null,
    handler: 'qm.echo',
    attempt: 1,
    priority: 5,
    desired: { cpu: 1 },
    granted: { cpu: 1 },
    reduced: false,
    nodeId: 'x1',
    outcome: 'completed',
  });
  const r = okRecords[0] as ExecutionRecord;
  expect(r.runId).toBe(ok.firstExecutionRunId);
  for (const [a, b] of [
    [r.requestedAt, r.grantedAt],
    [r.grantedAt, r.startedAt],
    [r.startedAt, r.endedAt],
  ] as const)
    expect((a as Date).getTime()).toBeLessThanOrEqual((b as Date).getTime());

  expect((await recordsOf(bad.workflowId)).map((x) => [x.attempt, x.outcome, x.definitionVersion])).toEqual([
    [1, 'failed', null],
    [2, 'failed', null],
  ]);

  // The stage's own request was withdrawn to become its shards: only the shards' attempts are recorded,
  // under the shard children's ids, with the pipeline's name and registered version.
  const shardRecords = await recordsOf(sharded.workflowId);
  expect(shardRecords.map((x) => [x.shardIndex, x.outcome, x.definitionName, x.definitionVersion])).toEqual([
    [0, 'completed', 'rec-shards', 2],
    [1, 'completed', 'rec-shards', 2],
    [2, 'completed', 'rec-shards', 2],
  ]);
  expect(shardRecords.map((x) => x.workflowId)).toEqual(
    [0, 1, 2].map((i) => `${sharded.workflowId}/work/shard-${i}`),
  );

  const cancelled = await recordsOf(doomed.workflowId);
  expect(cancelled).toHaveLength(1);
  expect(cancelled[0]).toMatchObject({ outcome: 'cancelled', attempt: 1, nodeId: 'x1' });
  expect(cancelled[0]?.startedAt).not.toBeNull();

  // qm history lists them, newest first; --pipeline narrows; --json is the records.
  const table = await historyOutput(db, { since: '1h' });
  expect(table.split('\n')[0]).toMatch(/^ENDED\s+PIPELINE\s+WORKFLOW\s+STAGE\s+TRY/);
  expect(table).toMatch(/rec-bad\s+\S+\s+work\s+2\s+5\s+x1\s+cpu=1\s+\S+\s+\S+\s+failed/);
  expect(table).toMatch(/rec-shards\s+\S+shard-1\s+work#1\s+1/);
  const onlyOk = JSON.parse(
    await historyOutput(db, { since: '1h', pipeline: 'rec-ok', json: true }),
  ) as Array<{
    workflowId: string;
  }>;
  expect(onlyOk.map((x) => x.workflowId)).toEqual([ok.workflowId]);
  expect(await historyOutput(db, { since: '1h', pipeline: 'nothing-like-it' })).toBe(
    'no stage attempts ended in the last 1h for pipeline "nothing-like-it"\n',
  );
  await expect(historyOutput(db, { since: 'soon' })).rejects.toMatchObject({ name: 'InvalidDurationError' });
});

test('qm history with a bad --since exits 2 with a clear message, before connecting to anything', async () => {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    expect(await main(['history', '--since', '1 fortnight'])).toBe(2);
  } finally {
    process.stderr.write = write;
  }
  expect(err).toContain('--since must be a positive number followed by s, m, h or d');
  expect(err).toContain('"1 fortnight"');
});

test('a stage that ran 3 times learns its run time and is backfilled into a hold it fits; one without history waits', async () => {
  // History: three quick runs of "learner" (no expectedSeconds anywhere).
  for (let i = 0; i < 3; i++) {
    const h = await startPipeline(t.client, oneStage('learner', 'qm.echo', 1, 2), {
      taskQueue: t.taskQueue,
      workflowId: uniqueId('learn-warm'),
    });
    expect((await pipelineResult(h)).status).toBe('completed');
  }
  const learned = (await listRunEstimates(db)).find((e) => e.definitionName === 'learner');
  expect(learned).toMatchObject({ stageId: 'work', handler: 'qm.echo', samples: 3 });
  expect(learned?.seconds).toBeLessThan(5);

  // A long stage (declared 60 s) holds 2 cpu; a priority-10 stage wants all 4, waits and holds the other 2.
  const long = await startPipeline(t.client, oneStage('long', 'test.gated', 3, 2, { expectedSeconds: 60 }), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('long'),
  });
  await until(
    'the long stage to run',
    async () =>
      (await reservationOf(long.workflowId))?.state === 'running' && gates.has(long.workflowId)
        ? true
        : undefined,
    30_000,
  );
  const big = await startPipeline(t.client, oneStage('big', 'qm.echo', 10, 4), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('big'),
  });
  await until(
    'the big stage to hold',
    async () => {
      const r = await reservationOf(big.workflowId);
      return r?.state === 'pending' && /holds cpu=2 on x1/.test(r.reason ?? '') ? true : undefined;
    },
    30_000,
  );
  const unknown = await startPipeline(t.client, oneStage('never-ran', 'qm.echo', 1, 2), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('unknown'),
  });
  const learner = await startPipeline(t.client, oneStage('learner', 'qm.echo', 1, 2), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('learner'),
  });
  // The learner is backfilled and completes while the big one still waits behind the long one.
  const learnerResult = await pipelineResult(learner);
  expect(learnerResult.stages.work).toMatchObject({
    status: 'completed',
    node: 'x1',
    allocation: { cpu: 2 },
  });
  expect((await reservationOf(big.workflowId))?.state).toBe('pending');
  expect((await reservationOf(long.workflowId))?.state).toBe('running');
  const waiting = await until(
    'the unknown stage to be decided',
    async () => {
      const r = await reservationOf(unknown.workflowId);
      return r?.reason !== null && r?.reason !== undefined ? r : undefined;
    },
    30_000,
  );
  expect(waiting.state).toBe('pending');
  // The learner's record says its run time was predicted from history.
  const { rows } = await db.pool.query<{ predicted_source: string | null; predicted_seconds: number | null }>(
    `SELECT predicted_source, predicted_seconds FROM qm_executions WHERE workflow_id = $1`,
    [learner.workflowId],
  );
  expect(rows).toEqual([{ predicted_source: 'learned', predicted_seconds: learned?.seconds }]);

  (gates.get(long.workflowId) as () => void)();
  const [bigResult, unknownResult] = await Promise.all([pipelineResult(big), pipelineResult(unknown)]);
  expect(bigResult.stages.work?.status).toBe('completed');
  expect(unknownResult.stages.work?.status).toBe('completed');

  // qm estimates: the learned run time, and the accuracy rows it can already check.
  const out = await estimatesOutput(db, {});
  expect(out).toMatch(/learner\s+work\s+qm\.echo\s+\S+\s+4\s+/);
  expect(out).toMatch(/long\s+work\s+test\.gated\s+run time \(declared\)\s+1\s+/);
  expect(out).toMatch(/learner\s+work\s+qm\.echo\s+run time \(learned\)\s+1\s+/);
  const json = JSON.parse(await estimatesOutput(db, { json: true })) as {
    learned: Array<{ definitionName: string; samples: number }>;
    accuracy: Array<{ definitionName: string; kind: string; n: number }>;
  };
  expect(json.learned.find((l) => l.definitionName === 'learner')?.samples).toBe(4);
  // The waiting stages got start estimates from the scheduler's full cycles: their starts are checked too.
  expect(json.accuracy.some((a) => a.kind === 'start' && a.n >= 1)).toBe(true);
});
