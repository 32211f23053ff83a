import { pipelineResult, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import type { QueueRow } from '../../../src/admission/types';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// A cluster of its own: node n1 with 4 cores (no monitor, so the host's load does not move the numbers).
let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_est');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'n1', capacity: { cpu: 4, memoryMb: 8192 }, monitor: false },
  });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

function wholeNode(name: string, priority: number, ms: number, expectedSeconds?: number) {
  return {
    name,
    stages: [
      {
        id: 'work',
        handler: 'qm.sleep',
        priority,
        input: { ms },
        resources: { desired: { cpu: 4 } },
        ...(expectedSeconds === undefined ? {} : { expectedSeconds }),
      },
    ],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('waiting stages get start estimates: ~3 s after a 3 s grant, then in rank order; unknown behind a stage without expectedSeconds', async () => {
  const run = (def: unknown) =>
    startPipeline(t.client, def, { taskQueue: t.taskQueue, workflowId: uniqueId('est') });
  const blocker = await run(wholeNode('blocker', 5, 3000, 3));
  // Wait for its grant; its grantedAt is what the estimates count from.
  let grantedAt: Date | null = null;
  for (let i = 0; i < 100 && grantedAt === null; i++) {
    const snap = await snapshot(db, new Date());
    grantedAt = snap.active.find((r) => r.workflowId === blocker.workflowId)?.grantedAt ?? null;
    if (grantedAt === null) await sleep(50);
  }
  expect(grantedAt).not.toBeNull();
  const granted = (grantedAt as Date).getTime();

  // Three whole-node stages queue behind it: 10 (expects 1 s), 5 (does not say), 1 (expects 1 s).
  const first = await run(wholeNode('first', 10, 200, 1));
  const unknown = await run(wholeNode('no-estimate', 5, 200));
  const last = await run(wholeNode('last', 1, 200, 1));
  const ids = [first, unknown, last].map((h) => h.workflowId);

  const scheduler = t.client.workflow.getHandle(t.schedulerWorkflowId);
  let rows: QueueRow[] = [];
  for (let i = 0; i < 100; i++) {
    // The scheduler starts with the first request that has to wait (the blocker was granted on the fast path).
    const queue = await scheduler
      .query<{ entries: QueueRow[] }>('queue')
      .catch(() => ({ entries: [] as QueueRow[] }));
    rows = ids.map((id) => queue.entries.find((e) => e.workflowId === id)).filter((e) => e !== undefined);
    if (rows.length === 3 && rows.every((e) => e.decision === 'wait')) break;
    await sleep(50);
  }
  expect(rows.map((e) => [e.workflowId, e.decision])).toEqual(ids.map((id) => [id, 'wait']));
  const [firstRow, unknownRow, lastRow] = rows as [QueueRow, QueueRow, QueueRow];
  expect(firstRow.rank).toBeLessThan(unknownRow.rank);
  expect(unknownRow.rank).toBeLessThan(lastRow.rank);
  // The first waits for the blocker's expected end (granted + 3 s); the next for that plus the first's 1 s.
  const firstAt = Date.parse(firstRow.estimatedStartAt ?? '');
  expect(Math.abs(firstAt - (granted + 3000))).toBeLessThan(250);
  expect(Math.abs(Date.parse(unknownRow.estimatedStartAt ?? '') - (granted + 4000))).toBeLessThan(250);
  // Behind a stage that never says how long it runs: unknown.
  expect(lastRow.estimatedStartAt).toBeNull();

  await pipelineResult(blocker);
  const result = await pipelineResult(first);
  // Reality: the first started after the blocker released, within a few seconds of its estimate.
  const started = Date.parse(result.stages.work?.startedAt ?? '');
  expect(started).toBeGreaterThanOrEqual(firstAt - 500);
  expect(started).toBeLessThan(firstAt + 5000);
  await Promise.all([pipelineResult(unknown), pipelineResult(last)]);
});
