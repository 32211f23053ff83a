import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAdmissionActivities } from '../../../activities/admission';
import type { AdmissionDecision, AdmissionRequest } from '../../../src/admission/types';
import { requestAdmission } from '../../../src/ledger/admission';
import type { Database } from '../../../src/ledger/db';
import { registerNode } from '../../../src/ledger/nodes';
import { getReservation, markRunning, requestReservation } from '../../../src/ledger/reservations';
import { checkInvariant } from '../../../src/ledger/invariant';
import { snapshot } from '../../../src/ledger/snapshot';
import { DEFAULT_SCHEDULER_CONFIG } from '../../../src/scheduling/config';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';
import { expectSoundThenEmpty } from '../../support/ledger-reset';

// What each admission step costs in statements, counted at the driver: every request pays them, and under a
// burst they were most of the ledger's work. And the waiter that follows a fast path that did not admit: it
// picks the recorded request up instead of asking again.
let db: Database;
let connection: Connection;
let seq = 0;
const LEASE = 60_000;
const statements: string[] = [];
/** The same statements in full (`statements` keeps each one's first line). */
const texts: string[] = [];
let restore: (() => void) | undefined;

beforeAll(async () => {
  db = await openTestDatabase('qm_trips');
  await registerNode(db, { id: 'r1', capacity: { cpu: 2 }, taskQueue: 'tq-r1' });
  connection = await Connection.connect({ address: testEnv.temporalAddress });
});
afterAll(async () => {
  await connection.close();
  await dropSchema(db);
});
beforeEach(async () => {
  // A scheduler that cycled just now: nothing here signals one (there is none).
  await db.pool.query('UPDATE qm_scheduler SET last_cycle_at = now() WHERE id = 1');
});
afterEach(async () => {
  stopCounting();
  await expectSoundThenEmpty(db);
});

/** Counts every statement any client of the driver sends from now on (text, first line). */
function startCounting(): void {
  statements.length = 0;
  texts.length = 0;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    statements.push(String(text).trim().split('\n')[0] ?? '');
    texts.push(String(text));
    return original.apply(this, args);
  };
  restore = () => {
    proto.query = original;
  };
}

function stopCounting(): void {
  restore?.();
  restore = undefined;
}

const inserts = (): number => statements.filter((s) => s.startsWith('INSERT INTO qm_reservations')).length;

function request(cpu: number): AdmissionRequest {
  seq++;
  return {
    key: `k${seq}`,
    attempt: 1,
    workflowId: `wf-trips-${seq}`,
    runId: 'run',
    stageId: 's',
    priority: 5,
    importance: 0,
    desired: { cpu },
    minimum: { cpu },
    handler: 'qm.sleep',
  };
}

const activities = (successorHorizonMs?: number) =>
  createAdmissionActivities({
    ledger: { get: () => Promise.resolve(db), close: () => Promise.resolve() },
    config: DEFAULT_SCHEDULER_CONFIG,
    scheduler: { workflowId: uniqueId('qm-trips-scheduler'), taskQueue: 'qm-trips-no-worker' },
    leaseMs: LEASE,
    staleAfterMs: LEASE,
    ...(successorHorizonMs === undefined ? {} : { successorHorizonMs }),
  });

const env = () => new MockActivityEnvironment(undefined, { client: new Client({ connection }) });

test('a snapshot is one round trip inside its transaction', async () => {
  const now = new Date();
  startCounting();
  const snap = await snapshot(db, now);
  expect(statements).toHaveLength(3); // BEGIN, the five reads in one, COMMIT
  expect(statements[0]).toMatch(/^BEGIN/);
  expect(statements[2]).toBe('COMMIT');
  expect(snap.nodes.map((n) => n.id)).toEqual(['r1']);
});

test('a request that sees others waiting costs five statements: begin, insert, the alone check, the snapshot, commit', async () => {
  const waiting = request(2);
  await requestReservation(db, { ...waiting, leaseMs: LEASE });
  const mine = request(1);
  startCounting();
  const state = await requestAdmission(
    db,
    { ...mine, leaseMs: LEASE },
    { staleAfterMs: LEASE, decide: () => undefined },
  );
  stopCounting();
  expect(state).toMatchObject({ created: true, fastPath: false, fitsAlone: false });
  expect(state.reservation.state).toBe('pending');
  expect(statements).toHaveLength(5);
  expect(inserts()).toBe(1);
  // The transaction's clock came back with the insert: no statement of its own.
  expect(statements.some((s) => /now\(\) AS now/.test(s))).toBe(false);
  await db.pool.query(
    `UPDATE qm_reservations SET state = 'cancelled', ended_at = now() WHERE key = ANY($1)`,
    [[waiting.key, mine.key]],
  );
});

test('a request alone that fits is granted in its one transaction: no lock, no second look, no take-up', async () => {
  const acts = activities();
  const mine = request(1);
  startCounting();
  const decision = (await env().run(acts.requestFastPath, mine)) as AdmissionDecision | null;
  stopCounting();
  expect(decision).toMatchObject({
    kind: 'grant',
    key: mine.key,
    nodeId: 'r1',
    taskQueue: 'tq-r1',
    fast: true,
  });
  expect(statements.some((s) => s.includes('advisory'))).toBe(false);
  // BEGIN, insert, alone check, snapshot (the ceiling is judged on it), the commit's locks and what is held
  // (one round trip), its update (with its NOTIFY, returning the row as granted), COMMIT: nothing before or
  // after the transaction, and under the node's lock only the last round trips.
  expect(statements[0]).toMatch(/^BEGIN/);
  expect(statements.at(-1)).toBe('COMMIT');
  expect(statements).toHaveLength(7);
  const locks = texts.findIndex((s) => /FOR UPDATE/.test(s));
  expect(texts[locks]).toMatch(/FROM qm_nodes[\s\S]*FOR UPDATE[\s\S]*sum\(e\.value/); // the holdings read with the locks
  expect(statements.slice(locks + 1)).toEqual([expect.stringMatching(/^WITH upd AS/), 'COMMIT']);
  expect(statements.filter((s) => /^SELECT EXISTS/.test(s))).toHaveLength(1);
  // The grant's NOTIFY goes with its update.
  expect(statements.some((s) => /^SELECT pg_notify/.test(s))).toBe(false);
  const row = await getReservation(db, mine.key);
  expect(row.state).toBe('granted');
  expect(row.leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now() + LEASE / 2);
  await env().run(acts.releaseReservation, { key: mine.key, outcome: 'cancelled' as const });
});

test('a request alone that cannot fit takes no lock (nothing free: every unit granted, none pending)', async () => {
  const acts = activities();
  const blocker = request(2);
  expect(await env().run(acts.requestFastPath, blocker)).toMatchObject({ kind: 'grant', fast: true });
  const mine = request(1);
  startCounting();
  const state = await requestAdmission(
    db,
    { ...mine, leaseMs: LEASE },
    {
      staleAfterMs: LEASE,
      decide: (snap) =>
        (snap.nodes[0]?.free.cpu ?? 0) >= 1
          ? { kind: 'grant', decision: { key: mine.key, nodeId: 'r1', granted: { cpu: 1 }, leaseMs: LEASE } }
          : undefined,
    },
  );
  stopCounting();
  expect(state).toMatchObject({ created: true, fastPath: false, fitsAlone: false });
  expect(statements.some((s) => s.includes('advisory'))).toBe(false);
  expect(statements).toHaveLength(5);
  await env().run(acts.releaseReservation, { key: mine.key, outcome: 'cancelled' as const });
  await env().run(acts.releaseReservation, { key: blocker.key, outcome: 'cancelled' as const });
});

test('a waiter picks up the request its fast path recorded (no second request) and returns the grant with its node', async () => {
  const acts = activities();
  const blocker = request(2);
  const first = (await env().run(acts.requestFastPath, blocker)) as AdmissionDecision | null;
  // Alone and fitting: granted by the fast path, on its node's task queue (taken up in one statement).
  expect(first).toMatchObject({ kind: 'grant', nodeId: 'r1', taskQueue: 'tq-r1', fast: true });
  const waiter = request(2);
  expect(await env().run(acts.requestFastPath, waiter)).toBeNull();
  expect((await getReservation(db, waiter.key)).state).toBe('pending');
  startCounting();
  const waiting = env().run(acts.awaitReservation, waiter);
  // Released, the blocker's capacity goes to the waiter through the release's inline cycle and its NOTIFY.
  await new Promise((r) => setTimeout(r, 300));
  await env().run(acts.releaseReservation, { key: blocker.key, outcome: 'completed' as const });
  const decision = (await waiting) as AdmissionDecision;
  stopCounting();
  expect(decision).toMatchObject({ kind: 'grant', key: waiter.key, nodeId: 'r1', taskQueue: 'tq-r1' });
  expect(inserts()).toBe(0);
  // Nor a node lookup: the renewal that took the grant up brought its task queue.
  expect(statements.filter((s) => s.startsWith('SELECT id, task_queue, capacity'))).toHaveLength(1); // the cycle's snapshot
  await env().run(acts.releaseReservation, { key: waiter.key, outcome: 'cancelled' as const });
});

test('a waiter whose request was never recorded (its fast path failed first) asks for it', async () => {
  const acts = activities();
  const mine = request(1);
  startCounting();
  const decision = (await env().run(acts.awaitReservation, mine)) as AdmissionDecision;
  stopCounting();
  expect(decision).toMatchObject({ kind: 'grant', key: mine.key, taskQueue: 'tq-r1' });
  expect(inserts()).toBe(1);
  await env().run(acts.releaseReservation, { key: mine.key, outcome: 'cancelled' as const });
});

test('a request no node could ever hold: the fast path leaves it to the waiter, which refuses it; nothing is written', async () => {
  const acts = activities();
  const huge = request(64);
  expect(await env().run(acts.requestFastPath, huge)).toBeNull();
  await expect(env().run(acts.awaitReservation, huge)).rejects.toMatchObject({
    type: 'UnsatisfiableRequestError',
    nonRetryable: true,
    message: expect.stringContaining('the largest node has cpu=2') as unknown,
  });
  await expect(getReservation(db, huge.key)).rejects.toMatchObject({ name: 'UnknownReservationError' });
});

test('a request for an undeclared pool: the fast path leaves it to the waiter, which fails it naming the pool', async () => {
  const acts = activities();
  const r = { ...request(1), desired: { cpu: 1, licences: 1 }, minimum: { cpu: 1, licences: 1 } };
  expect(await env().run(acts.requestFastPath, r)).toBeNull();
  // Not retryable (the worker's wrapper turns it into a non-retryable failure of the same type).
  await expect(env().run(acts.awaitReservation, r)).rejects.toMatchObject({
    name: 'UnknownPoolError',
    retryable: false,
    message: expect.stringContaining('qm pools set licences=N') as unknown,
  });
  await expect(getReservation(db, r.key)).rejects.toMatchObject({ name: 'UnknownReservationError' });
});

test('a release with nobody waiting is one statement; with a request pending it hands the capacity on', async () => {
  const acts = activities();
  const first = request(2);
  expect(await env().run(acts.requestFastPath, first)).toMatchObject({ kind: 'grant' });
  startCounting();
  await env().run(acts.releaseReservation, { key: first.key, outcome: 'completed' as const });
  stopCounting();
  expect(statements).toHaveLength(1);
  expect((await getReservation(db, first.key)).state).toBe('released');

  const holder = request(2);
  expect(await env().run(acts.requestFastPath, holder)).toMatchObject({ kind: 'grant' });
  const waiter = request(2);
  expect(await env().run(acts.requestFastPath, waiter)).toBeNull();
  startCounting();
  await env().run(acts.releaseReservation, { key: holder.key, outcome: 'completed' as const });
  stopCounting();
  // The release, then the hand-off: its cycle granted the waiter.
  expect(statements.length).toBeGreaterThan(1);
  expect((await getReservation(db, waiter.key)).state).toBe('granted');
  await env().run(acts.releaseReservation, { key: waiter.key, outcome: 'cancelled' as const });
});

test('alone while nothing is free, a request is granted behind a stage that ends within the horizon, in its fast path', async () => {
  for (const horizon of [0, 1000]) {
    const acts = activities(horizon);
    const running = { ...request(2), expectedSeconds: 0.5 };
    expect(await env().run(acts.requestFastPath, running)).toMatchObject({ kind: 'grant' });
    await markRunning(db, running.key, LEASE);
    const next = request(2);
    const decision = (await env().run(acts.requestFastPath, next)) as AdmissionDecision | null;
    if (horizon === 0) {
      // No successor grants: it waits (its waiter takes it over).
      expect(decision).toBeNull();
      expect((await getReservation(db, next.key)).state).toBe('pending');
    } else {
      expect(decision).toMatchObject({ kind: 'grant', key: next.key, nodeId: 'r1', taskQueue: 'tq-r1' });
      const row = await db.pool.query<{ state: string; behind: string | null }>(
        'SELECT state, behind FROM qm_reservations WHERE key = $1',
        [next.key],
      );
      expect(row.rows[0]).toEqual({ state: 'granted', behind: running.key });
      // Counted once: the node is not overcommitted while both hold it.
      expect(await checkInvariant(db)).toEqual([]);
      // The predecessor's end makes the capacity its own.
      await env().run(acts.releaseReservation, { key: running.key, outcome: 'completed' as const });
      const after = await db.pool.query<{ behind: string | null }>(
        'SELECT behind FROM qm_reservations WHERE key = $1',
        [next.key],
      );
      expect(after.rows[0]?.behind).toBeNull();
    }
    await env().run(acts.releaseReservation, { key: next.key, outcome: 'cancelled' as const });
    await env().run(acts.releaseReservation, { key: running.key, outcome: 'cancelled' as const });
  }
});
