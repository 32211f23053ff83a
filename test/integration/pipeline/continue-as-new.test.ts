import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import type { Database } from '../../../src/ledger/db';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// The test server suggests continue-as-new after 200 events (global setup): a pipeline of 40 sequential
// stages rolls over at least once mid-run. It must finish with every stage's output, keep a boost sent
// before the switch, and answer `status` across runs.
let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_can');
  t = await startTestWorker({ schema: db.schema, node: { id: 'n', capacity: { cpu: 2 }, monitor: false } });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

test('a long pipeline continues as new mid-run: same result, boost kept, status across runs', async () => {
  const stages: PipelineDefinition['stages'] = Array.from({ length: 40 }, (_, i) => ({
    id: `s${i}`,
    handler: 'qm.echo',
    priority: 5,
    input: { i },
    ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    // Every tenth stage asks for resources, so admission spans runs too.
    ...(i % 10 === 5 ? { resources: { desired: { cpu: 1 } } } : {}),
  }));
  const id = uniqueId('can');
  const handle = await startPipeline(
    t.client,
    { name: 'long', stages },
    { taskQueue: t.taskQueue, workflowId: id },
  );
  const boost = await handle.executeUpdate('boost', {
    args: [{ amount: 2, ttlSeconds: 3600, reason: 'keep me' }],
  });
  expect(boost).toMatchObject({ importance: 2 });
  const result = await pipelineResult(handle);
  expect(result.status).toBe('completed');
  expect(Object.keys(result.stages)).toHaveLength(40);
  for (let i = 0; i < 40; i++) {
    expect(result.stages[`s${i}`]).toMatchObject({ status: 'completed', attempts: 1 });
    expect((result.stages[`s${i}`]?.output as { input: unknown }).input).toEqual({ i });
  }
  let continued = 0;
  for await (const run of t.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
    if (run.status.name === 'CONTINUED_AS_NEW') continued += 1;
  }
  expect(continued).toBeGreaterThan(0);
  // The last run still knows the boost and answers status (what qm status asks).
  const status = await pipelineStatus(t.client.workflow.getHandle(id));
  expect(status.importance).toBe(2);
  expect(status.boosts).toEqual([expect.objectContaining({ amount: 2, reason: 'keep me' })]);
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM qm_reservations WHERE workflow_id = $1 AND state = 'released'`,
    [id],
  );
  expect(Number(rows[0]?.n)).toBe(4);
}, 240_000);
