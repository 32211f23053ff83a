import type { Database } from '../../../src/ledger/db';
import { renewPendingMany } from '../../../src/ledger/admission';
import { PendingRenewals } from '../../../src/ledger/renewal-batch';
import { getReservation, releaseReservation, requestReservation } from '../../../src/ledger/reservations';
import { commitDecisions } from '../../../src/ledger/commit';
import { registerNode } from '../../../src/ledger/nodes';
import { dropSchema, openTestDatabase } from '../../support/env';

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase('qm_renewals');
  for (let i = 0; i < 40; i++)
    await requestReservation(db, {
      key: `r${i}`,
      workflowId: `wf${i}`,
      stageId: 's',
      priority: 5,
      desired: { cpu: 1 },
      leaseMs: 1000,
    });
});
afterAll(() => dropSchema(db));

/** Counts the UPDATE statements `fn` sends through the pool (the spy calls through). */
async function countUpdates(fn: () => Promise<unknown>): Promise<number> {
  const spy = jest.spyOn(db.pool, 'query');
  try {
    await fn();
    return spy.mock.calls.filter((c) => typeof c[0] === 'string' && c[0].trimStart().startsWith('UPDATE'))
      .length;
  } finally {
    spy.mockRestore();
  }
}

test('renewPendingMany renews pending leases, takes live grants up, and returns every known key as it is', async () => {
  await releaseReservation(db, 'r39');
  await registerNode(db, { id: 'n1', capacity: { cpu: 4 }, taskQueue: 'n1-queue' });
  // r37 granted with a live lease, r38 granted with one already lapsed (no cycle expired it yet).
  await commitDecisions(db, [
    { key: 'r37', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 60_000 },
    { key: 'r38', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 60_000 },
  ]);
  await db.pool.query(
    `UPDATE qm_reservations SET lease_expires_at = now() - interval '1 second' WHERE key = 'r38'`,
  );
  const before = await getReservation(db, 'r0');
  const granted = await getReservation(db, 'r37');
  const found = await renewPendingMany(db, ['r0', 'r37', 'r38', 'r39', 'never-requested'], 600_000);
  expect([...found.keys()].sort()).toEqual(['r0', 'r37', 'r38', 'r39']);
  expect(found.get('r0')).toMatchObject({
    reservation: { state: 'pending' },
    takenUp: false,
    nodeTaskQueue: null,
  });
  expect((found.get('r0')?.reservation.leaseExpiresAt as Date).getTime()).toBeGreaterThan(
    (before.leaseExpiresAt as Date).getTime() + 500_000,
  );
  expect(found.get('r37')).toMatchObject({
    reservation: { state: 'granted' },
    takenUp: true,
    nodeTaskQueue: 'n1-queue',
  });
  expect((found.get('r37')?.reservation.leaseExpiresAt as Date).getTime()).toBeGreaterThan(
    (granted.leaseExpiresAt as Date).getTime() + 500_000,
  );
  // A lapsed grant is not taken up: its waiter asks again.
  expect(found.get('r38')).toMatchObject({ reservation: { state: 'granted' }, takenUp: false });
  expect((found.get('r38')?.reservation.leaseExpiresAt as Date).getTime()).toBeLessThan(Date.now());
  expect(found.get('r39')?.reservation.state).toBe('released');
  await expect(renewPendingMany(db, ['  '], 1000)).rejects.toThrow(/key/);
});

test('urgent renewals of one event-loop turn share one statement', async () => {
  const renewals = new PendingRenewals(db, 600_000, 60_000);
  const keys = Array.from({ length: 30 }, (_, i) => `r${i}`);
  let results: Array<unknown> = [];
  const updates = await countUpdates(async () => {
    results = await Promise.all(keys.map((k) => renewals.renew(k, true)));
  });
  expect(updates).toBe(1);
  expect(results.map((r) => (r as { reservation: { key: string } }).reservation.key)).toEqual(keys);
});

test('periodic renewals wait at most maxDelayMs for each other, and an urgent one flushes them all', async () => {
  const renewals = new PendingRenewals(db, 600_000, 50);
  const t0 = performance.now();
  const updates = await countUpdates(() =>
    Promise.all([renewals.renew('r1', false), renewals.renew('r2', false)]),
  );
  expect(updates).toBe(1);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
  // A slow timer is cut short by an urgent renewal: both answered in one statement, long before 60 s.
  const slow = new PendingRenewals(db, 600_000, 60_000);
  const both = await countUpdates(() => Promise.all([slow.renew('r3', false), slow.renew('r4', true)]));
  expect(both).toBe(1);
  expect(await slow.renew('never-requested', true)).toBeUndefined();
});
