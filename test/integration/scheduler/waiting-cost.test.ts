import { pipelineResult, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// What a wait costs the ledger: the fast path records a request once; a stage that then waits is taken over by
// its waiting activity from the recorded row (one batched read), not recorded a second time.
let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_waitcost');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'n1', capacity: { cpu: 2 }, monitor: false },
    metrics: { port: 0, host: '127.0.0.1' },
  });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

/** Ledger transactions so far, by operation (the worker's own metrics). */
async function transactions(): Promise<Map<string, number>> {
  const metric = t.worker.metrics?.registry.getSingleMetric(
    'quartermaster_ledger_transaction_duration_seconds',
  );
  const out = new Map<string, number>();
  for (const v of (await metric?.get())?.values ?? []) {
    if (!(v as { metricName?: string }).metricName?.endsWith('_count')) continue;
    const op = String(v.labels.operation);
    out.set(op, (out.get(op) ?? 0) + v.value);
  }
  return out;
}

function oneStage(name: string, ms: number, cpu: number) {
  return {
    name,
    stages: [
      { id: 'work', handler: 'qm.sleep', priority: 5, input: { ms }, resources: { desired: { cpu } } },
    ],
  };
}

test("a stage that waits is recorded once: its waiting activity takes the fast path's row over", async () => {
  const before = (await transactions()).get('request admission') ?? 0;
  const blocker = await startPipeline(t.client, oneStage('blocker', 1500, 2), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('blocker'),
  });
  for (let i = 0; i < 40; i++) {
    if ((await snapshot(db, new Date())).nodes.find((n) => n.id === 'n1')?.granted.cpu === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const waiter = await startPipeline(t.client, oneStage('waiter', 10, 1), {
    taskQueue: t.taskQueue,
    workflowId: uniqueId('waiter'),
  });
  expect((await pipelineResult(waiter)).stages.work).toMatchObject({ status: 'completed', node: 'n1' });
  await pipelineResult(blocker);
  const activities = ((await waiter.fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => n !== undefined && n !== null);
  expect(activities).toEqual(['awaitReservation', 'runStage']); // it did wait
  // Two requests, two recordings (each by its fast path): none by the waiting activity.
  expect(((await transactions()).get('request admission') ?? 0) - before).toBe(2);
});
