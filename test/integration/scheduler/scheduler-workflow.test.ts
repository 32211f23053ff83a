import { pipelineResult, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// The test server suggests continue-as-new after 200 events (global setup), so a busy scheduler rolls over
// within this test; its queue must survive the roll-over and stages must keep being admitted.
let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_sched');
  t = await startTestWorker({ schema: db.schema, node: { id: 's1', capacity: { cpu: 1 }, monitor: false } });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

test('the scheduler continues-as-new when Temporal suggests it and keeps admitting stages', async () => {
  const scheduler = t.client.workflow.getHandle(t.schedulerWorkflowId);
  // Twenty one-cpu stages on a one-cpu node: each admission after the first needs a cycle (and a wake on
  // release), which is plenty of history.
  const handles = [];
  for (let i = 0; i < 20; i++) {
    handles.push(
      await startPipeline(
        t.client,
        {
          name: `roll-${i}`,
          stages: [{ id: 'w', handler: 'qm.echo', priority: 5, resources: { desired: { cpu: 1 } } }],
        },
        { taskQueue: t.taskQueue, workflowId: uniqueId('roll') },
      ),
    );
  }
  for (const h of handles) expect((await pipelineResult(h)).status).toBe('completed');
  // Wake it until a run has continued-as-new (the visibility store lists every run of the id).
  const continuedRuns = async (): Promise<number> => {
    let n = 0;
    for await (const run of t.client.workflow.list({ query: `WorkflowId = '${t.schedulerWorkflowId}'` })) {
      if (run.status.name === 'CONTINUED_AS_NEW') n += 1;
    }
    return n;
  };
  for (let i = 0; i < 150 && (await continuedRuns()) === 0; i++) {
    await scheduler.signal('wake');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await continuedRuns()).toBeGreaterThan(0);
  const described = await scheduler.describe();
  expect(described.status.name).toBe('RUNNING');
  // The new run answers the queue query; after one more cycle, with nothing pending, the queue is empty.
  type Queue = { lastCycleAt: string | null; cycles: number; entries: unknown[] };
  const before = await scheduler.query<Queue>('queue');
  await scheduler.signal('wake');
  let queue = before;
  for (let i = 0; i < 50 && queue.lastCycleAt === before.lastCycleAt; i++) {
    await new Promise((r) => setTimeout(r, 100));
    queue = await scheduler.query<Queue>('queue');
  }
  expect(queue.cycles).toBeGreaterThan(0);
  expect(queue.entries).toEqual([]);
  // still admitting after the roll-over
  const after = await startPipeline(
    t.client,
    {
      name: 'after-roll',
      stages: [{ id: 'w', handler: 'qm.echo', priority: 5, resources: { desired: { cpu: 1 } } }],
    },
    { taskQueue: t.taskQueue, workflowId: uniqueId('after') },
  );
  expect((await pipelineResult(after)).stages.w?.node).toBe('s1');
});
