import { pipelineResult, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import type { Database } from '../../../src/ledger/db';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { watchLedger } from '../../support/ledger-watch';
import { until } from '../../support/poll';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// Admission at load (CI-sized): many pipelines at once on one node; no collapse, no grant expiring unused,
// and a wait that costs a bounded number of history events however long it lasts.

let db: Database;
let cluster: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_load');
  cluster = await startTestWorker({
    schema: db.schema,
    node: { id: 'big', capacity: { cpu: 16 }, monitor: false },
  });
});
afterAll(async () => {
  await cluster.close();
  await dropSchema(db);
});

async function historyLength(workflowId: string): Promise<number> {
  const handle = cluster.client.workflow.getHandle(workflowId);
  return (await handle.describe()).historyLength;
}

test('300 pipelines with resources started at once all complete; no grant expires unused', async () => {
  const definition: PipelineDefinition = {
    name: 'load',
    stages: [
      { id: 's', handler: 'qm.sleep', priority: 5, input: { ms: 200 }, resources: { desired: { cpu: 1 } } },
    ],
  };
  const watch = watchLedger(db, 'big');
  const started = Date.now();
  const handles = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      startPipeline(
        cluster.client,
        { ...definition, importance: i % 3 },
        {
          taskQueue: cluster.taskQueue,
          workflowId: uniqueId('load'),
        },
      ),
    ),
  );
  const results = await Promise.all(handles.map((h) => pipelineResult(h)));
  const seconds = (Date.now() - started) / 1000;
  expect(results.filter((r) => r.status === 'completed')).toHaveLength(300);
  const { rows } = await db.pool.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM qm_reservations WHERE workflow_id LIKE 'load-%' GROUP BY state`,
  );
  // One request per pipeline, every one released by its stage: none expired, none asked twice.
  expect(rows.map((r) => [r.state, Number(r.n)])).toEqual([['released', 300]]);
  const { maxCpu, violations } = await watch.stop();
  expect(violations).toBe(0);
  expect(maxCpu).toBeLessThanOrEqual(16);
  // The scheduler stayed small: it was woken at most about once per cycle, not once per waiting stage.
  const scheduler = await cluster.client.workflow.getHandle(cluster.schedulerWorkflowId).describe();
  expect(scheduler.status.name).toBe('RUNNING');
  process.stderr.write(`[load] 300 pipelines with cpu=1 on a cpu=16 node: ${seconds.toFixed(1)} s\n`);
}, 600_000);

test('a stage waiting long adds no more history than one waiting briefly (bounded, O(1) per wait)', async () => {
  const blocked = async (blockMs: number): Promise<number> => {
    const blocker = await startPipeline(
      cluster.client,
      {
        name: 'blocker',
        stages: [
          {
            id: 'b',
            handler: 'qm.sleep',
            priority: 5,
            input: { ms: blockMs },
            resources: { desired: { cpu: 16 } },
          },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: uniqueId('blocker') },
    );
    await until('blocker holds the node', async () => {
      const { rows } = await db.pool.query(
        `SELECT 1 FROM qm_reservations WHERE workflow_id = $1 AND state = 'running'`,
        [blocker.workflowId],
      );
      return rows.length > 0 ? true : undefined;
    });
    const waiter = await startPipeline(
      cluster.client,
      {
        name: 'waiter',
        stages: [
          { id: 'w', handler: 'qm.sleep', priority: 5, input: { ms: 1 }, resources: { desired: { cpu: 1 } } },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: uniqueId('waiter') },
    );
    expect((await pipelineResult(waiter)).status).toBe('completed');
    await pipelineResult(blocker);
    return historyLength(waiter.workflowId);
  };
  const brief = await blocked(2000);
  const long = await blocked(45_000);
  process.stderr.write(`[history] waiter history: ${brief} events after 2 s, ${long} after 45 s\n`);
  // Waiting 20x longer adds at most the bounded wait-reason updates (3 signals and their tasks).
  expect(long).toBeLessThanOrEqual(brief + 12);
  expect(long).toBeLessThanOrEqual(45);
}, 180_000);
