import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { getReservation } from '../../../src/ledger/reservations';
import { snapshot } from '../../../src/ledger/snapshot';
import type { PipelineResult } from '../../../src/pipeline/types';
import { spawnNodeWorker, type ChildWorker } from '../../support/child-worker';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

const whoami = (name: string) =>
  defineStage('test.whoami', async ({ input }) => {
    await new Promise((r) => setTimeout(r, (input as { ms?: number }).ms ?? 0));
    return name;
  });

describe('two nodes of different sizes', () => {
  let db: Database;
  let small: TestTemporal;
  let big: TestTemporal;
  beforeAll(async () => {
    db = await openTestDatabase('qm_nodes');
    small = await startTestWorker({
      schema: db.schema,
      node: { id: 'small', capacity: { cpu: 2 }, monitor: false },
      handlers: [whoami('small')],
    });
    big = await startTestWorker({
      schema: db.schema,
      taskQueue: small.taskQueue,
      node: { id: 'big', capacity: { cpu: 8 }, monitor: false },
      handlers: [whoami('big')],
    });
  });
  afterAll(async () => {
    await Promise.all([small.close(), big.close()]);
    await dropSchema(db);
  });

  const submit = (cpu: number, ms = 0) =>
    startPipeline(
      small.client,
      {
        name: `sized-${cpu}`,
        stages: [
          { id: 'work', handler: 'test.whoami', priority: 5, input: { ms }, resources: { desired: { cpu } } },
        ],
      },
      { taskQueue: small.taskQueue, workflowId: uniqueId('sized') },
    );

  test('each worker receives only the stages granted on its node', async () => {
    // Stages only the big node can hold, and small ones that fit anywhere.
    const handles = await Promise.all([1, 3, 6, 2, 1, 5, 3, 1].map((cpu) => submit(cpu)));
    const results: PipelineResult[] = await Promise.all(handles.map((h) => pipelineResult(h)));
    const sizes = [1, 3, 6, 2, 1, 5, 3, 1];
    results.forEach((r, i) => {
      // the handler that ran is the one of the node the ledger granted
      expect(r.stages.work?.output).toBe(r.stages.work?.node);
      if ((sizes[i] as number) > 2) expect(r.stages.work?.node).toBe('big');
    });
  });

  test('while the big node is nearly full, small stages land on both nodes', async () => {
    const filler = await submit(7, 2000);
    let status = await pipelineStatus(filler);
    for (let i = 0; i < 50 && status.stages.work?.status !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await pipelineStatus(filler);
    }
    expect(status.stages.work?.node).toBe('big');
    // 1 cpu left on big, 2 on small: three 1-cpu stages must use both.
    const results = await Promise.all(
      (await Promise.all([1, 1, 1].map((cpu) => submit(cpu, 500)))).map((h) => pipelineResult(h)),
    );
    for (const r of results) expect(r.stages.work?.output).toBe(r.stages.work?.node);
    expect(new Set(results.map((r) => r.stages.work?.node))).toEqual(new Set(['small', 'big']));
    await pipelineResult(filler);
  });
});

describe('a worker dies while holding a lease', () => {
  let db: Database;
  let shared: TestTemporal;
  let doomed: ChildWorker | undefined;
  let backup: TestTemporal | undefined;
  beforeAll(async () => {
    db = await openTestDatabase('qm_kill');
    // The shared queue (pipelines, scheduler) runs here; nodes come and go.
    shared = await startTestWorker({ schema: db.schema, staleAfterMs: 8000, leaseMs: 10_000 });
  });
  afterAll(async () => {
    await doomed?.kill();
    await backup?.close();
    await shared.close();
    await dropSchema(db);
  });

  test('its capacity comes back and the stage completes on another node', async () => {
    doomed = await spawnNodeWorker(shared, db.schema, 'doomed', 'cpu=4');
    const handle = await startPipeline(
      shared.client,
      {
        name: 'survivor',
        stages: [
          {
            id: 'long',
            handler: 'qm.sleep',
            priority: 6,
            input: { ms: 4000 },
            resources: { desired: { cpu: 4 } },
          },
        ],
      },
      { taskQueue: shared.taskQueue, workflowId: uniqueId('survivor') },
    );
    let status = await pipelineStatus(handle);
    for (let i = 0; i < 100 && status.stages.long?.status !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await pipelineStatus(handle);
    }
    expect(status.stages.long).toMatchObject({ status: 'running', node: 'doomed' });
    const held = (await snapshot(db, new Date())).active;
    expect(held).toHaveLength(1);
    const key = held[0]?.key as string;

    await doomed.kill();
    backup = await startTestWorker({
      schema: db.schema,
      taskQueue: shared.taskQueue,
      node: { id: 'backup', capacity: { cpu: 4 }, monitor: false },
    });
    const result = await pipelineResult(handle);
    expect(result.stages.long).toMatchObject({ status: 'completed', node: 'backup', attempts: 2 });
    // the dead worker's reservation no longer holds capacity
    expect(['released', 'expired']).toContain((await getReservation(db, key)).state);
    const snap = await snapshot(db, new Date(), { staleAfterMs: 8000 });
    expect(snap.nodes.find((n) => n.id === 'doomed')?.granted.cpu ?? 0).toBe(0);
    expect(snap.nodes.find((n) => n.id === 'doomed')?.stale).toBe(true);
  });
});
