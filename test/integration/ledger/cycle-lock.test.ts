import pg from 'pg';
import { runLedgerCycle } from '../../../src/admission/ledger-cycle';
import { beginCycle, raiseWake, wakePending } from '../../../src/ledger/admission';
import { tryCycleLock, withCycleLock } from '../../../src/ledger/cycle-lock';
import type { Database } from '../../../src/ledger/db';
import { registerNode } from '../../../src/ledger/nodes';
import { getReservation, requestReservation } from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase, testEnv } from '../../support/env';
import { INLINE_CYCLE } from '../../support/ledger-cycle-options';

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase('qm_cycle_lock');
});
afterAll(() => dropSchema(db));

/** A promise and the function that settles it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const schedulerRow = async (): Promise<{ wake: boolean; changed: boolean; last: Date | null }> => {
  const { rows } = await db.pool.query<{ wake: boolean; changed: boolean; last: Date | null }>(
    `SELECT wake_requested AS wake, queue_changed AS changed, last_cycle_at AS last FROM qm_scheduler`,
  );
  return rows[0] as { wake: boolean; changed: boolean; last: Date | null };
};

test('one cycle at a time: a try gives up while another holds the lock, a waiter queues for it', async () => {
  const held = gate();
  const order: string[] = [];
  const first = withCycleLock(db, async () => {
    order.push('first in');
    await held.wait;
    order.push('first out');
  });
  // Let the first take the lock.
  for (let i = 0; i < 50 && order.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await tryCycleLock(db, async () => order.push('try'))).toEqual({ ran: false });
  const second = withCycleLock(db, async () => {
    order.push('second');
  });
  await new Promise((r) => setTimeout(r, 200));
  expect(order).toEqual(['first in']); // the waiter has not run
  held.open();
  await Promise.all([first, second]);
  expect(order).toEqual(['first in', 'first out', 'second']);
  // Free again, and released even when the function throws.
  await expect(
    withCycleLock(db, async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await tryCycleLock(db, async () => 42)).toEqual({ ran: true, value: 42 });
});

test('a holder whose process dies (its connection ends) frees the lock', async () => {
  const other = new pg.Client({ connectionString: testEnv.databaseUrl });
  other.on('error', () => undefined); // it is killed on purpose
  await other.connect();
  try {
    await other.query(`SELECT pg_advisory_lock(hashtext($1))`, [`quartermaster-cycle:${db.schema}`]);
    expect(await tryCycleLock(db, async () => 1)).toEqual({ ran: false });
    const { rows } = await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
  } finally {
    await other.end().catch(() => undefined);
  }
  let ran: { ran: boolean } = { ran: false };
  for (let i = 0; i < 50 && !ran.ran; i++) {
    ran = await tryCycleLock(db, async () => 1);
    if (!ran.ran) await new Promise((r) => setTimeout(r, 50));
  }
  expect(ran).toEqual({ ran: true, value: 1 });
});

test('wakes: one of many concurrent raisers flips the flag; a release with nothing pending raises nothing', async () => {
  await beginCycle(db, true, 'always'); // down, queue clean
  expect(await raiseWake(db, { onlyIfPending: true, schedulerStaleMs: 60_000 })).toEqual({
    raised: false,
    flipped: false,
    schedulerStale: false,
  });
  expect((await schedulerRow()).changed).toBe(false);
  const states = await Promise.all(
    Array.from({ length: 12 }, () => raiseWake(db, { schedulerStaleMs: 60_000 })),
  );
  expect(states.filter((s) => s.flipped)).toHaveLength(1);
  expect(states.every((s) => s.raised && !s.schedulerStale)).toBe(true);
  expect(await schedulerRow()).toMatchObject({ wake: true, changed: true });
});

test('the queue is refreshed when asked always, or if-changed only after a raise; inline cycles do not stamp; one caller hears the scheduler is stale', async () => {
  const stamped = (await beginCycle(db, true, 'always')).refresh;
  expect(stamped).toBe(true);
  expect((await beginCycle(db, true, 'if-changed')).refresh).toBe(false);
  const last = (await schedulerRow()).last;
  await raiseWake(db, { schedulerStaleMs: 60_000 });
  // An inline cycle clears the wake but neither refreshes nor stamps the scheduler's time.
  await new Promise((r) => setTimeout(r, 20));
  expect((await beginCycle(db, false, 'never')).refresh).toBe(false);
  const row = await schedulerRow();
  expect(row).toMatchObject({ wake: false, changed: true });
  expect(row.last?.getTime()).toBe(last?.getTime());
  expect((await beginCycle(db, true, 'if-changed')).refresh).toBe(true);
  expect((await beginCycle(db, true, 'if-changed')).refresh).toBe(false);
  // Stale: no scheduler cycle for longer than asked.
  await new Promise((r) => setTimeout(r, 30));
  expect((await raiseWake(db, { schedulerStaleMs: 10 })).schedulerStale).toBe(true);
  // One caller per staleness period is told (a burst before the scheduler's first cycle sends one signal).
  await db.pool.query(
    `UPDATE qm_scheduler SET last_cycle_at = now() - interval '1 hour', stale_signalled_at = NULL`,
  );
  const burst = await Promise.all(
    Array.from({ length: 8 }, () => raiseWake(db, { schedulerStaleMs: 60_000 })),
  );
  expect(burst.filter((w) => w.schedulerStale)).toHaveLength(1);
});

test('a change made while a cycle runs is seen once the cycle unlocks; the next cycle grants it', async () => {
  await registerNode(db, { id: 'n1', capacity: { cpu: 2 } });
  const options = INLINE_CYCLE;
  const inCycle = gate();
  const entered = gate();
  const running = tryCycleLock(db, async () => {
    const c = await runLedgerCycle(db, options);
    entered.open();
    await inCycle.wait;
    return c;
  });
  await entered.wait;
  // A request arrives while the cycle runs: its requester raises the wake and finds the lock taken.
  await requestReservation(db, {
    key: 'late',
    workflowId: 'wf-late',
    stageId: 's',
    priority: 5,
    desired: { cpu: 1 },
    leaseMs: 60_000,
  });
  await raiseWake(db, { schedulerStaleMs: 3_600_000 });
  expect(await tryCycleLock(db, async () => 'mine')).toEqual({ ran: false });
  inCycle.open();
  const first = await running;
  expect(first.ran && first.value.committed.granted).toEqual([]);
  // The holder reads the flag after unlocking and runs again: the request is granted.
  expect(await wakePending(db)).toBe(true);
  const again = await tryCycleLock(db, () => runLedgerCycle(db, options));
  expect(again.ran && again.value.committed.granted.map((g) => g.key)).toEqual(['late']);
  expect((await getReservation(db, 'late')).state).toBe('granted');
  expect(await wakePending(db)).toBe(false);
});
