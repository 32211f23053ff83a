import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import type { ResourceVector } from '../../../src/definition/types';
import { defineStage } from '../../../src/handlers/registry';
import type { AllocationOffer } from '../../../src/handlers/types';
import type { Database } from '../../../src/ledger/db';
import { checkInvariant } from '../../../src/ledger/invariant';
import { shrinkState } from '../../../src/ledger/shrink';
import type { ReservationRecord } from '../../../src/ledger/types';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';
import { watchLedger } from '../../support/ledger-watch';
import { until } from '../../support/poll';

// Graceful degradation end to end: one node of 4 cpu (no monitor), a low-priority stage holding all of it
// (desired 4, minimum 1), then a high-priority stage wanting 3.

/** What a test handler saw while it ran, by workflow id; it runs until the test opens its gate. */
interface Run {
  allocations: ResourceVector[];
  offers: AllocationOffer[];
  finished: boolean;
  open: () => void;
}
const runs = new Map<string, Run>();

/** A run whose gate the test opens (or that opens by itself after 60 s, so nothing hangs). */
function gated(workflowId: string): { run: Run; gate: Promise<void> } {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    open = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const run: Run = { allocations: [], offers: [], finished: false, open };
  runs.set(workflowId, run);
  return { run, gate };
}

/** Accepts every offer; records the live allocation whenever it changes; returns when the gate opens (≤ 60 s). */
const shrinkable = defineStage('test.shrinkable', async ({ allocation, onAllocationOffer, workflowId }) => {
  const { run, gate } = gated(workflowId);
  run.allocations.push({ ...allocation });
  onAllocationOffer((offer) => {
    run.offers.push(offer);
    return true;
  });
  const watch = setInterval(() => {
    const last = run.allocations[run.allocations.length - 1];
    if (JSON.stringify(last) !== JSON.stringify(allocation)) run.allocations.push({ ...allocation });
  }, 20);
  await gate;
  clearInterval(watch);
  run.finished = true;
  return { allocations: run.allocations as unknown as Record<string, number>[] };
});

/** Registers no listener: ignores offers. Same gate. */
const stubborn = defineStage('test.stubborn', async ({ allocation, workflowId }) => {
  const { run, gate } = gated(workflowId);
  run.allocations.push({ ...allocation });
  await gate;
  run.allocations.push({ ...allocation });
  run.finished = true;
  return { allocations: run.allocations as unknown as Record<string, number>[] };
});

let db: Database;
let t: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_degrade');
  t = await startTestWorker({
    schema: db.schema,
    node: { id: 'd1', capacity: { cpu: 4 }, monitor: false },
    handlers: [shrinkable, stubborn],
  });
});
afterAll(async () => {
  for (const r of runs.values()) r.open();
  await t.close();
  await dropSchema(db);
});

function stage(name: string, handler: string, priority: number, resources: unknown, input: unknown = {}) {
  return { name, stages: [{ id: 'work', handler, priority, input, resources }] };
}

async function start(def: unknown) {
  return startPipeline(t.client, def, { taskQueue: t.taskQueue, workflowId: uniqueId('deg') });
}

/**
 * The latest reservation of `workflowId`'s stage in the ledger, in any state: a fast stage may already be
 * released between two polls, and then it is in neither the snapshot's pending nor its active list.
 */
async function reservationOf(
  workflowId: string,
): Promise<Pick<ReservationRecord, 'key' | 'state' | 'granted'> | undefined> {
  const { rows } = await db.pool.query<Pick<ReservationRecord, 'key' | 'state' | 'granted'>>(
    'SELECT key, state, granted FROM qm_reservations WHERE workflow_id = $1 ORDER BY requested_at DESC LIMIT 1',
    [workflowId],
  );
  return rows[0];
}

const LOW = { desired: { cpu: 4 }, minimum: { cpu: 1 } };
const HIGH = { desired: { cpu: 3 } };

test('a running stage that accepts shrinks to its minimum and the waiting high-priority stage starts beside it', async () => {
  const watch = watchLedger(db, 'd1');
  const low = await start(stage('low', 'test.shrinkable', 1, LOW));
  await until('the low stage to run', async () =>
    (await reservationOf(low.workflowId))?.state === 'running' && runs.has(low.workflowId) ? true : undefined,
  );
  const high = await start(stage('high', 'qm.echo', 10, HIGH));

  // The high stage is granted while the low one still runs: only possible if the low one gave up 3 cpu.
  const granted = await until('the high stage to be granted', async () => {
    const r = await reservationOf(high.workflowId);
    return r !== undefined && r.state !== 'pending' ? r : undefined;
  });
  const lowRun = runs.get(low.workflowId) as Run;
  expect(lowRun.finished).toBe(false);
  expect(granted.granted).toEqual({ cpu: 3 });
  const highResult = await pipelineResult(high);
  expect(lowRun.finished).toBe(false);

  // The low handler saw one offer 4 → 1, and its live allocation followed.
  await until('the low handler to see its new allocation', async () =>
    lowRun.allocations.length >= 2 ? true : undefined,
  );
  expect(lowRun.offers).toEqual([{ from: { cpu: 4 }, to: { cpu: 1 } }]);
  expect(lowRun.allocations).toEqual([{ cpu: 4 }, { cpu: 1 }]);
  expect((await reservationOf(low.workflowId))?.granted).toEqual({ cpu: 1 });
  // The pipeline's status follows (the activity signals it once the ledger recorded the shrink).
  await until('the low pipeline status to show cpu 1', async () => {
    const work = (await pipelineStatus(low)).stages.work;
    return work?.status === 'running' && work.allocation?.cpu === 1 ? true : undefined;
  });

  lowRun.open();
  const lowResult = await pipelineResult(low);
  const { maxCpu, violations } = await watch.stop();

  expect(highResult.stages.work).toMatchObject({ status: 'completed', allocation: { cpu: 3 } });
  expect(lowResult.stages.work?.output).toEqual({ allocations: [{ cpu: 4 }, { cpu: 1 }] });
  expect(Date.parse(highResult.stages.work?.completedAt ?? '')).toBeLessThan(
    Date.parse(lowResult.stages.work?.completedAt ?? ''),
  );
  expect(violations).toBe(0);
  expect(maxCpu).toBeGreaterThan(0);
  expect(maxCpu).toBeLessThanOrEqual(4);
});

test('a running stage with no listener keeps its grant; the high-priority stage waits until it ends', async () => {
  const watch = watchLedger(db, 'd1');
  const low = await start(stage('low-stubborn', 'test.stubborn', 1, LOW));
  const lowKey = await until('the stubborn stage to run', async () => {
    const r = await reservationOf(low.workflowId);
    return r?.state === 'running' && runs.has(low.workflowId) ? r.key : undefined;
  });
  const high = await start(stage('high-waits', 'qm.echo', 10, HIGH));

  // The scheduler offered, the renewal brought the offer, and having no listener the stage declined it.
  await until('the offer to be declined', async () =>
    (await shrinkState(db, new Date(), { cooldownMs: 600_000 })).declined.includes(lowKey) ? true : undefined,
  );
  // Even a later cycle (ticks every 5 s) neither grants it nor offers again while the decline cools down.
  await new Promise((r) => setTimeout(r, 6000));
  const state = await shrinkState(db, new Date(), { cooldownMs: 600_000 });
  expect(state.pending).toEqual([]);
  expect((await reservationOf(high.workflowId))?.state).toBe('pending');
  expect((await reservationOf(low.workflowId))?.granted).toEqual({ cpu: 4 });

  const lowRun = runs.get(low.workflowId) as Run;
  lowRun.open();
  const lowResult = await pipelineResult(low);
  const highResult = await pipelineResult(high);
  const { maxCpu, violations } = await watch.stop();

  expect(lowResult.stages.work?.output).toEqual({ allocations: [{ cpu: 4 }, { cpu: 4 }] });
  expect(highResult.stages.work).toMatchObject({ status: 'completed', allocation: { cpu: 3 } });
  expect(Date.parse(highResult.stages.work?.startedAt ?? '')).toBeGreaterThanOrEqual(
    Date.parse(lowResult.stages.work?.completedAt ?? ''),
  );
  expect(violations).toBe(0);
  expect(maxCpu).toBeLessThanOrEqual(4);
});

test('the built-in qm.sleep accepts offers: a long low-priority sleep makes room for a high-priority stage', async () => {
  const low = await start(stage('low-sleep', 'qm.sleep', 1, LOW, { ms: 45_000 }));
  await until('the sleep to run', async () =>
    (await reservationOf(low.workflowId))?.state === 'running' ? true : undefined,
  );
  const high = await start(stage('high-after-sleep', 'qm.echo', 10, HIGH));
  const highResult = await pipelineResult(high);
  // The sleep is still running (it ends 45 s after it started); it now holds its minimum.
  const lowNow = await reservationOf(low.workflowId);
  expect(lowNow?.state).toBe('running');
  expect(lowNow?.granted).toEqual({ cpu: 1 });
  expect(highResult.stages.work).toMatchObject({ status: 'completed', allocation: { cpu: 3 } });
  await low.cancel();
  await until('the cancelled sleep to release', async () => {
    const state = (await reservationOf(low.workflowId))?.state;
    return state !== 'granted' && state !== 'running' ? true : undefined;
  });
  expect(await checkInvariant(db)).toEqual([]);
});
