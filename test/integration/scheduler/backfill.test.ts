import { pipelineResult, startPipeline } from '../../../src/client';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import type { ReservationRecord } from '../../../src/ledger/types';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { watchLedger } from '../../support/ledger-watch';
import { startTestWorker, type TestTemporal } from '../../support/temporal';
import { until } from '../../support/poll';

// Backfill by expected run time end to end: one node of 4 cpu (no monitor). A low-priority stage holds 2 cpu
// and is expected to run 60 s; a priority-10 stage wanting all 4 waits and holds the other 2. A short stage
// that says it runs 1 s may use them (it ends long before the holder can start); one that does not say how
// long it runs may not.

const gates = new Map<string, () => void>();

/** Runs until the test opens its gate (or 60 s pass, so nothing hangs). */
const gated = defineStage('test.gated', async ({ workflowId }) => {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    gates.set(workflowId, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return null;
});

let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_backfill');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'b1', capacity: { cpu: 4 }, monitor: false },
    handlers: [gated],
  });
});
afterAll(async () => {
  for (const open of gates.values()) open();
  await t.close();
  await dropSchema(db);
});

function stage(name: string, handler: string, priority: number, cpu: number, expectedSeconds?: number) {
  return {
    name,
    stages: [
      {
        id: 'work',
        handler,
        priority,
        resources: { desired: { cpu } },
        ...(expectedSeconds === undefined ? {} : { expectedSeconds }),
      },
    ],
  };
}

async function start(def: unknown) {
  return startPipeline(t.client, def, { taskQueue: t.taskQueue, workflowId: uniqueId('bf') });
}

async function reservationOf(workflowId: string): Promise<ReservationRecord | undefined> {
  const snap = await snapshot(db, new Date());
  return [...snap.pending, ...snap.active].find((r) => r.workflowId === workflowId);
}

test('a short stage backfills into capacity held for a big one; a stage of unknown run time waits', async () => {
  const watch = watchLedger(db, 'b1');
  const long = await start(stage('long', 'test.gated', 3, 2, 60));
  await until(
    'the long stage to run',
    async () =>
      (await reservationOf(long.workflowId))?.state === 'running' && gates.has(long.workflowId)
        ? true
        : undefined,
    30_000,
  );
  const big = await start(stage('big', 'qm.echo', 10, 4));
  // The big stage waits and holds the 2 free cpu.
  await until(
    'the big stage to hold',
    async () => {
      const r = await reservationOf(big.workflowId);
      return r?.state === 'pending' && /holds cpu=2 on b1/.test(r.reason ?? '') ? true : undefined;
    },
    30_000,
  );

  const unknown = await start(stage('unknown', 'qm.echo', 1, 2));
  const short = await start(stage('short', 'qm.echo', 1, 2, 1));
  // The short one is backfilled and completes while the big one still waits behind the long one.
  const shortResult = await pipelineResult(short);
  expect(shortResult.stages.work).toMatchObject({ status: 'completed', node: 'b1', allocation: { cpu: 2 } });
  expect((await reservationOf(big.workflowId))?.state).toBe('pending');
  expect((await reservationOf(long.workflowId))?.state).toBe('running');
  // The one that does not say how long it runs may not use the held capacity: it is still waiting (its
  // reason is "held for" the big one, or "0 free" once the short one took the held cpu — both true).
  const waiting = await until(
    'the unknown stage to be decided',
    async () => {
      const r = await reservationOf(unknown.workflowId);
      return r?.reason !== null && r?.reason !== undefined ? r : undefined;
    },
    30_000,
  );
  expect(waiting.state).toBe('pending');
  expect(waiting.reason).toMatch(/held for |has 0 free/);

  (gates.get(long.workflowId) as () => void)();
  const [bigResult, unknownResult] = await Promise.all([pipelineResult(big), pipelineResult(unknown)]);
  const { maxCpu, violations } = await watch.stop();
  expect(bigResult.stages.work).toMatchObject({ status: 'completed', allocation: { cpu: 4 } });
  expect(unknownResult.stages.work?.status).toBe('completed');
  // The big stage started before the unknown one: the hold kept its place.
  expect(Date.parse(bigResult.stages.work?.startedAt ?? '')).toBeLessThan(
    Date.parse(unknownResult.stages.work?.startedAt ?? ''),
  );
  expect(violations).toBe(0);
  expect(maxCpu).toBeLessThanOrEqual(4);
});
