import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRunStage, type RunStageInput } from '../../../activities/run-stage';
import { defineStage, HandlerRegistry } from '../../../src/handlers/registry';
import { commitDecisions } from '../../../src/ledger/commit';
import type { Database } from '../../../src/ledger/db';
import { registerNode } from '../../../src/ledger/nodes';
import {
  getReservation,
  markRunning,
  releaseReservation,
  requestReservation,
} from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase } from '../../support/env';
import { expectSoundThenEmpty } from '../../support/ledger-reset';

// runStage's gate, on the real ledger: a stage granted behind another runs its handler only once the
// predecessor has ended, gives its grant back after gateMaxMs, and stops waiting when cancelled.
let db: Database;
let seq = 0;
const ran: Array<{ key: string; at: number }> = [];
const LEASE = 60_000;

beforeAll(async () => {
  db = await openTestDatabase('qm_gate');
  await registerNode(db, { id: 'g1', capacity: { cpu: 1 } });
});
afterAll(() => dropSchema(db));
afterEach(async () => {
  await expectSoundThenEmpty(db);
  ran.length = 0;
});

function runStageWith(gateMaxMs: number): (input: RunStageInput) => Promise<unknown> {
  return createRunStage({
    registry: new HandlerRegistry([
      defineStage('t.mark', async ({ input }) => {
        ran.push({ key: (input as { key: string }).key, at: Date.now() });
        return null;
      }),
    ]),
    ledger: { get: () => Promise.resolve(db), close: () => Promise.resolve() },
    leaseMs: LEASE,
    gateMaxMs,
  });
}

/** A running 1-cpu predecessor and a successor granted behind it; returns both keys. */
async function chain(): Promise<{ p: string; s: string }> {
  const [p, s] = [`p${++seq}`, `s${seq}`];
  for (const key of [p, s])
    await requestReservation(db, {
      key,
      workflowId: `wf-${key}`,
      stageId: 'x',
      priority: 5,
      desired: { cpu: 1 },
    });
  await commitDecisions(db, [{ key: p, nodeId: 'g1', granted: { cpu: 1 }, leaseMs: LEASE }]);
  await markRunning(db, p, LEASE);
  const { rejected } = await commitDecisions(db, [
    { key: s, nodeId: 'g1', granted: { cpu: 1 }, leaseMs: LEASE, behind: p },
  ]);
  expect(rejected).toEqual([]);
  return { p, s };
}

const input = (key: string): RunStageInput => ({
  workflowId: `wf-${key}`,
  stageId: 'x',
  handler: 't.mark',
  input: { key },
  deps: {},
  pipelineInput: null,
  allocation: { cpu: 1 },
  attempt: 1,
  reservationKey: key,
});

test('the handler runs only after the predecessor ends, and the successor then holds and releases the capacity', async () => {
  const { p, s } = await chain();
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 600_000 });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const running = env.run(runStageWith(60_000), input(s));
  await new Promise((r) => setTimeout(r, 1500));
  expect(ran).toEqual([]);
  // Waiting at the gate heartbeats (so a cancellation reaches it) and says behind whom.
  expect(heartbeats).toContainEqual({ attempt: 1, behind: p });
  const releasedAt = Date.now();
  await releaseReservation(db, p, undefined, { outcome: 'completed' });
  await expect(running).resolves.toMatchObject({ released: true });
  expect(ran).toHaveLength(1);
  expect((ran[0] as { at: number }).at).toBeGreaterThanOrEqual(releasedAt);
  expect(await getReservation(db, s)).toMatchObject({ state: 'released' });
});

test('after gateMaxMs the grant is given back and the stage fails as "reservation ended" (the workflow asks again)', async () => {
  const { p, s } = await chain();
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 600_000 });
  await expect(env.run(runStageWith(300), input(s))).rejects.toMatchObject({
    type: 'ReservationEndedError',
    nonRetryable: true,
    message: expect.stringMatching(/has not ended; the grant is given back/),
  });
  expect(ran).toEqual([]);
  expect(await getReservation(db, s)).toMatchObject({ state: 'released', startedAt: null });
  // Its attempt is recorded as never run (cancelled), not as a failure.
  const { rows } = await db.pool.query<{ outcome: string; started_at: Date | null }>(
    'SELECT outcome, started_at FROM qm_executions WHERE reservation_key = $1',
    [s],
  );
  expect(rows).toEqual([{ outcome: 'cancelled', started_at: null }]);
  expect(await getReservation(db, p)).toMatchObject({ state: 'running' });
});

test("the gate never takes more than a tenth of the stage's own time limit", async () => {
  const { s } = await chain();
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 3000 });
  const started = Date.now();
  await expect(env.run(runStageWith(60_000), input(s))).rejects.toMatchObject({
    type: 'ReservationEndedError',
    message: expect.stringMatching(/waited 300 ms behind/),
  });
  expect(Date.now() - started).toBeLessThan(3000);
  expect(ran).toEqual([]);
});

test('cancelling the activity while it waits at the gate ends the wait; the handler never runs', async () => {
  const { s } = await chain();
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 600_000 });
  const running = env.run(runStageWith(60_000), input(s));
  await new Promise((r) => setTimeout(r, 300));
  env.cancel();
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  expect(ran).toEqual([]);
  expect(await getReservation(db, s)).toMatchObject({ state: 'granted', startedAt: null });
});
