import { pipelineResult, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import { defineStage } from '../../../src/handlers/registry';
import type { PipelineResult } from '../../../src/pipeline/types';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';
import { watchLedger } from '../../support/ledger-watch';

// One cluster per file: a shared task queue, a ledger schema and a scheduler of its own, and node n1
// declared with 4 cores (no monitor, so the host's real load does not move the numbers).
let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_adm');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'n1', capacity: { cpu: 4, memoryMb: 8192 }, monitor: false },
    handlers: [defineStage('test.allocation', ({ allocation }) => allocation)],
  });
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

function oneStage(name: string, stage: Record<string, unknown>) {
  return { name, stages: [{ id: 'work', handler: 'qm.sleep', input: { ms: 400 }, ...stage }] };
}

async function run(def: unknown, importance?: number) {
  return startPipeline(t.client, def, { taskQueue: t.taskQueue, workflowId: uniqueId('adm'), importance });
}

test('12 pipelines wanting 2–4 cpu on a 4-cpu node: never more than 4 granted, all complete on n1', async () => {
  const watch = watchLedger(db, 'n1');
  const handles = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      run(oneStage(`mix-${i}`, { priority: (i % 10) + 1, resources: { desired: { cpu: 2 + (i % 3) } } })),
    ),
  );
  const results = await Promise.all(handles.map((h) => pipelineResult(h)));
  const { maxCpu, violations } = await watch.stop();
  expect(violations).toBe(0);
  expect(maxCpu).toBeGreaterThan(0);
  expect(maxCpu).toBeLessThanOrEqual(4);
  for (const r of results) expect(r.stages.work).toMatchObject({ status: 'completed', node: 'n1' });
  // every reservation was released
  const snap = await snapshot(db, new Date());
  expect(snap.nodes.find((n) => n.id === 'n1')?.granted.cpu ?? 0).toBe(0);
  expect(snap.pending).toHaveLength(0);
});

test('stages ready at the same time start in score order once the node frees up', async () => {
  // A blocker takes the whole node; ten stages of 2 cpu queue behind it at priorities 1–10.
  const blocker = await run(
    oneStage('blocker', { priority: 5, input: { ms: 2500 }, resources: { desired: { cpu: 4 } } }),
  );
  await new Promise((r) => setTimeout(r, 800));
  const priorities = [3, 9, 1, 7, 5, 10, 2, 8, 4, 6];
  const handles = [];
  for (const p of priorities) {
    handles.push(await run(oneStage(`ordered-p${p}`, { priority: p, resources: { desired: { cpu: 2 } } })));
  }
  await pipelineResult(blocker);
  const results = await Promise.all(handles.map((h) => pipelineResult(h)));
  const starts = results
    .map((r, i) => ({ priority: priorities[i] as number, start: Date.parse(r.stages.work?.startedAt ?? '') }))
    .sort((a, b) => a.start - b.start);
  // Two fit at a time, so stages start in pairs: every stage starts no earlier than any stage of higher
  // priority that is not in its own pair (started within 250 ms of it).
  for (const a of starts) {
    for (const b of starts) {
      if (a.priority > b.priority) expect(a.start).toBeLessThanOrEqual(b.start + 250);
    }
  }
  expect(
    starts
      .slice(0, 2)
      .map((s) => s.priority)
      .sort(),
  ).toEqual([10, 9]);
});

test('when only the minimum fits, the stage runs on a reduced allocation and its handler sees it', async () => {
  const blocker = await run(
    oneStage('hog', { priority: 5, input: { ms: 2500 }, resources: { desired: { cpu: 3 } } }),
  );
  await new Promise((r) => setTimeout(r, 600));
  const flexible = await run({
    name: 'flexible',
    stages: [
      {
        id: 'work',
        handler: 'test.allocation',
        priority: 8,
        resources: { desired: { cpu: 4, memoryMb: 1000 }, minimum: { cpu: 1, memoryMb: 500 } },
      },
    ],
  });
  const result: PipelineResult = await pipelineResult(flexible);
  await pipelineResult(blocker);
  expect(result.stages.work?.allocation?.cpu).toBeCloseTo(1, 6);
  expect(result.stages.work?.output).toEqual(result.stages.work?.allocation);
  const granted = result.stages.work?.allocation as Record<string, number>;
  expect(granted.memoryMb).toBeGreaterThanOrEqual(500);
  expect(granted.memoryMb).toBeLessThanOrEqual(1000);
});

test('a stage no node could ever hold fails at once, naming the resource and the largest capacity', async () => {
  const handle = await run(oneStage('too-big', { priority: 5, resources: { desired: { cpu: 64 } } }));
  const err = (await handle.result().catch((e: unknown) => e)) as { cause?: { details?: unknown[] } };
  const result = err.cause?.details?.[0] as PipelineResult;
  expect(result.stages.work?.status).toBe('failed');
  expect(result.stages.work?.error).toContain('UnsatisfiableRequestError');
  expect(result.stages.work?.error).toContain('cpu=64');
  expect(result.stages.work?.error).toMatch(/largest node has cpu=\d/);
});

test('a stage that may wait for larger nodes waits with a reason naming the resource; cancel withdraws it', async () => {
  const handle = await run(
    oneStage('too-big-waits', { priority: 5, resources: { desired: { cpu: 64 }, waitForLargerNodes: true } }),
  );
  let reason: string | undefined;
  for (let i = 0; i < 60 && reason === undefined; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const status = await handle.query<{ stages: Record<string, { status: string; waitReason?: string }> }>(
      'status',
    );
    if (status.stages.work?.status === 'waiting') reason = status.stages.work.waitReason;
  }
  expect(reason).toContain('cpu');
  await handle.cancel();
  // cancelling withdraws the request from the queue
  for (let i = 0; i < 40; i++) {
    const snap = await snapshot(db, new Date());
    if (snap.pending.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect((await snapshot(db, new Date())).pending).toHaveLength(0);
});

test('stages that fit while another waits are admitted inside their first workflow task, with no waiting activity', async () => {
  // The blocker holds 2 of 4 cpu; a 4-cpu stage waits behind it; 1-cpu stages of higher priority arrive, one
  // after another, while the queue is not empty: each fits, so its fast path runs the cycle (or has the cycle
  // that holds the lock decide it) and is granted there. A cycle elsewhere that cannot see it in time may leave
  // one to the waiting activity, hence "at least two of three"; before, every one of them waited.
  const blocker = await run(
    oneStage('half-blocker', { priority: 5, input: { ms: 6000 }, resources: { desired: { cpu: 2 } } }),
  );
  for (let i = 0; i < 40; i++) {
    const status = await blocker.query<{ stages: Record<string, { status: string }> }>('status');
    if (status.stages.work?.status === 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const waiter = await run(oneStage('whole-node', { priority: 1, resources: { desired: { cpu: 4 } } }));
  for (let i = 0; i < 40; i++) {
    if ((await snapshot(db, new Date())).pending.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await snapshot(db, new Date())).pending.length).toBeGreaterThan(0);
  const firstTask: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    const small = await run(oneStage(`small-${i}`, { priority: 10, resources: { desired: { cpu: 1 } } }));
    expect((await pipelineResult(small)).stages.work).toMatchObject({ status: 'completed', node: 'n1' });
    const activities = ((await small.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((n): n is string => n !== undefined && n !== null);
    expect(activities).toContain('runStage');
    firstTask.push(!activities.includes('awaitReservation'));
  }
  expect((await snapshot(db, new Date())).pending.length).toBeGreaterThan(0); // the whole-node stage still waits
  expect(firstTask.filter(Boolean).length).toBeGreaterThanOrEqual(2);
  // The waiting stage was not overtaken for good: it runs once the blocker is done.
  await pipelineResult(blocker);
  expect((await pipelineResult(waiter)).stages.work).toMatchObject({ status: 'completed' });
});
