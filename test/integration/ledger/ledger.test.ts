import type { Database } from '../../../src/ledger/db';
import { addBoost, expireBoosts, listActiveBoosts, listBoostAudit } from '../../../src/ledger/boosts';
import { commitDecisions } from '../../../src/ledger/commit';
import { checkInvariant } from '../../../src/ledger/invariant';
import { getNode, heartbeatNode, registerNode } from '../../../src/ledger/nodes';
import { getPool, listPools, setPoolCapacity } from '../../../src/ledger/pools';
import {
  cancelWorkflowReservations,
  getReservation,
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
  type ReservationRequest,
} from '../../../src/ledger/reservations';
import { snapshot } from '../../../src/ledger/snapshot';
import type { LockStrategy, ReservationState } from '../../../src/ledger/types';
import { dropSchema, openTestDatabase } from '../../support/env';
import { errorOf } from '../../support/errors';
import { expireLapsed } from '../../../src/ledger/admission';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

let db: Database;
let seq = 0;

beforeAll(async () => {
  db = await openTestDatabase('qm_ledger');
  await registerNode(
    db,
    { id: 'n1', capacity: { cpu: 8, memoryMb: 8192, gpu: 1 }, labels: { zone: 'a' } },
    T0,
  );
  await registerNode(db, { id: 'n2', capacity: { cpu: 4, memoryMb: 4096 } }, T0);
  await setPoolCapacity(db, 'db-connections', 10, T0);
});
afterAll(async () => {
  await dropSchema(db);
});

function request(over: Partial<ReservationRequest> = {}): ReservationRequest {
  seq++;
  return { key: `k${seq}`, workflowId: `wf${seq}`, stageId: 's', priority: 5, desired: { cpu: 1 }, ...over };
}

/** Brings a fresh reservation into `state` by real operations. */
async function reservationIn(state: ReservationState): Promise<string> {
  const { reservation } = await requestReservation(db, request(), at(0));
  const key = reservation.key;
  if (state === 'pending') return key;
  if (state === 'cancelled') {
    await cancelWorkflowReservations(db, reservation.workflowId, at(1));
    return key;
  }
  const out = await commitDecisions(db, [{ key, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], at(1));
  expect(out.granted).toHaveLength(1);
  if (state === 'granted') return key;
  if (state === 'expired') {
    await expireLapsed(db, at(5000));
    return key;
  }
  await markRunning(db, key, 1000, at(2));
  if (state === 'running') return key;
  await releaseReservation(db, key, at(3));
  return key;
}

describe('nodes and pools', () => {
  it('registers with the default task queue, re-registers, heartbeats with a usage snapshot', async () => {
    const n = await getNode(db, 'n1');
    expect(n).toMatchObject({
      taskQueue: 'quartermaster-node-n1',
      capacity: { cpu: 8 },
      labels: { zone: 'a' },
    });
    const again = await registerNode(db, { id: 'n3', capacity: { cpu: 2 }, taskQueue: 'custom-q' }, at(10));
    expect(again.taskQueue).toBe('custom-q');
    const hb = await heartbeatNode(db, 'n3', at(20), { usage: { cpu: 0.5 }, forecast: { cpu: 0.7 } });
    expect(hb).toMatchObject({
      lastHeartbeat: at(20),
      usage: { cpu: 0.5 },
      forecast: { cpu: 0.7 },
      usageAt: at(20),
    });
    expect(hb.registeredAt).toEqual(at(10));
  });

  it('rejects bad node input with typed errors naming the value', async () => {
    expect(await errorOf(heartbeatNode(db, 'ghost', T0))).toMatchObject({
      name: 'UnknownNodeError',
      nodeId: 'ghost',
    });
    expect(await errorOf(registerNode(db, { id: 'x', capacity: { cpu: -1 } }, T0))).toMatchObject({
      name: 'InvalidQuantityError',
      path: 'node.capacity.cpu',
      value: -1,
    });
    expect(await errorOf(registerNode(db, { id: 'x', capacity: { cpu: Number.NaN } }, T0))).toMatchObject({
      name: 'InvalidQuantityError',
    });
    expect(await errorOf(registerNode(db, { id: 'x', capacity: { 'db-connections': 1 } }, T0))).toMatchObject(
      {
        name: 'InvalidLedgerArgumentError',
        path: 'node.capacity.db-connections',
      },
    );
  });

  it('declares pools, refuses host names, infinite capacity and shrinking below granted', async () => {
    await setPoolCapacity(db, 'license:matlab', 2, T0);
    expect(await getPool(db, 'license:matlab')).toMatchObject({ capacity: 2, granted: 0, free: 2 });
    expect(await errorOf(setPoolCapacity(db, 'cpu', 2, T0))).toMatchObject({
      name: 'InvalidLedgerArgumentError',
    });
    expect(await errorOf(setPoolCapacity(db, 'p', Infinity, T0))).toMatchObject({
      name: 'InvalidQuantityError',
      value: Infinity,
    });
    const key = (await requestReservation(db, request({ desired: { cpu: 1, 'license:matlab': 2 } }), T0))
      .reservation.key;
    await commitDecisions(
      db,
      [{ key, nodeId: 'n1', granted: { cpu: 1, 'license:matlab': 2 }, leaseMs: 1000 }],
      T0,
    );
    expect(await errorOf(setPoolCapacity(db, 'license:matlab', 1, T0))).toMatchObject({
      name: 'CapacityBelowGrantedError',
      capacity: 1,
      granted: 2,
    });
    await releaseReservation(db, key, at(1));
    expect((await setPoolCapacity(db, 'license:matlab', 1, at(2))).capacity).toBe(1);
    expect((await listPools(db)).map((p) => p.name)).toEqual(['db-connections', 'license:matlab']);
    expect(await errorOf(getPool(db, 'nope'))).toMatchObject({ name: 'UnknownPoolError', poolName: 'nope' });
  });
});

describe('requests', () => {
  it('validates requests with typed errors naming the value', async () => {
    const cases: Array<[Partial<ReservationRequest>, Record<string, unknown>]> = [
      [{ desired: { cpu: -2 } }, { name: 'InvalidQuantityError', path: 'request.desired.cpu', value: -2 }],
      [{ desired: { cpu: Infinity } }, { name: 'InvalidQuantityError', path: 'request.desired.cpu' }],
      [{ priority: 11 }, { name: 'InvalidLedgerArgumentError', path: 'request.priority', value: 11 }],
      [
        { desired: { cpu: 1 }, minimum: { cpu: 2 } },
        { name: 'InvalidLedgerArgumentError', path: 'request.minimum.cpu' },
      ],
      [{ desired: { 'no-such-pool': 1 } }, { name: 'UnknownPoolError', poolName: 'no-such-pool' }],
      [{ key: '' }, { name: 'InvalidLedgerArgumentError', path: 'request.key' }],
      [
        { expectedSeconds: 0 },
        { name: 'InvalidLedgerArgumentError', path: 'request.expectedSeconds', value: 0 },
      ],
      [{ expectedSeconds: NaN }, { name: 'InvalidLedgerArgumentError', path: 'request.expectedSeconds' }],
    ];
    for (const [over, expected] of cases)
      expect(await errorOf(requestReservation(db, request(over), T0))).toMatchObject(expected);
  });

  it('is idempotent: the same request retried 10 times creates one reservation', async () => {
    const r = request({ key: 'idem-1', desired: { cpu: 2, 'db-connections': 1 }, minimum: { cpu: 1 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => requestReservation(db, r, T0)));
    expect(results.filter((x) => x.created)).toHaveLength(1);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM qm_reservations WHERE key = 'idem-1'`,
    );
    expect(rows[0]).toEqual({ n: 1 });
    expect((await getReservation(db, 'idem-1')).minimum).toEqual({ cpu: 1 });
  });

  it('a request may age from an earlier time (a shard from its stage), never from a later one; it gets a lease and a sequence', async () => {
    const earlier = (await requestReservation(db, request({ requestedAt: at(-60_000), leaseMs: 5000 }), T0))
      .reservation;
    const later = (await requestReservation(db, request({ requestedAt: at(60_000) }), T0)).reservation;
    expect(earlier.requestedAt.getTime()).toBe(at(-60_000).getTime());
    expect(later.requestedAt.getTime()).toBe(T0.getTime());
    expect(earlier.leaseExpiresAt?.getTime()).toBe(T0.getTime() + 5000);
    expect(later.seq).toBeGreaterThan(earlier.seq as number);
    expect(
      await errorOf(requestReservation(db, request({ requestedAt: new Date(Number.NaN) }), T0)),
    ).toMatchObject({
      name: 'InvalidLedgerArgumentError',
    });
    await releaseReservation(db, earlier.key, at(1));
    await releaseReservation(db, later.key, at(1));
  });

  it('stores expectedSeconds (null when absent) and returns it on read and in the snapshot', async () => {
    const withIt = (await requestReservation(db, request({ expectedSeconds: 12.5 }), T0)).reservation;
    const without = (await requestReservation(db, request(), T0)).reservation;
    expect(withIt.expectedSeconds).toBe(12.5);
    expect(without.expectedSeconds).toBeNull();
    expect((await getReservation(db, withIt.key)).expectedSeconds).toBe(12.5);
    const snap = await snapshot(db, at(1));
    expect(snap.pending.find((r) => r.key === withIt.key)?.expectedSeconds).toBe(12.5);
    await releaseReservation(db, withIt.key, at(2));
    await releaseReservation(db, without.key, at(2));
  });

  it('release retried 10 times has one effect', async () => {
    const key = await reservationIn('released');
    expect((await getReservation(db, key)).state).toBe('released');
    const key2 = await reservationIn('granted');
    const results = await Promise.all(Array.from({ length: 10 }, () => releaseReservation(db, key2, at(10))));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results.every((r) => r.state === 'released')).toBe(true);
    expect((await getReservation(db, key2)).endedAt).toEqual(at(10));
    expect(await errorOf(releaseReservation(db, 'never-requested', T0))).toMatchObject({
      name: 'UnknownReservationError',
      key: 'never-requested',
    });
  });
});

describe('state transitions against the database', () => {
  // [state, operation, resulting state or error name]
  const table: Array<[ReservationState, 'grant' | 'start' | 'renew' | 'release' | 'cancel', string]> = [
    ['pending', 'grant', 'granted'],
    ['pending', 'start', 'IllegalTransitionError'],
    ['pending', 'renew', 'IllegalTransitionError'],
    ['pending', 'release', 'released'],
    ['pending', 'cancel', 'cancelled'],
    ['granted', 'grant', 'rejected:not-pending'],
    ['granted', 'start', 'running'],
    ['granted', 'renew', 'granted'],
    ['granted', 'release', 'released'],
    ['granted', 'cancel', 'cancelled'],
    ['running', 'grant', 'rejected:not-pending'],
    ['running', 'start', 'running'],
    ['running', 'renew', 'running'],
    ['running', 'release', 'released'],
    ['running', 'cancel', 'cancelled'],
    ['released', 'grant', 'rejected:not-pending'],
    ['released', 'start', 'IllegalTransitionError'],
    ['released', 'renew', 'IllegalTransitionError'],
    ['released', 'release', 'released'],
    ['released', 'cancel', 'released'],
    ['expired', 'grant', 'rejected:not-pending'],
    ['expired', 'start', 'LeaseExpiredError'],
    ['expired', 'renew', 'LeaseExpiredError'],
    ['expired', 'release', 'expired'],
    ['expired', 'cancel', 'expired'],
    ['cancelled', 'grant', 'rejected:not-pending'],
    ['cancelled', 'start', 'IllegalTransitionError'],
    ['cancelled', 'renew', 'IllegalTransitionError'],
    ['cancelled', 'release', 'cancelled'],
    ['cancelled', 'cancel', 'cancelled'],
  ];
  it.each(table)('%s + %s → %s', async (state, op, expected) => {
    const key = await reservationIn(state);
    const now = at(3);
    let outcome: string;
    try {
      if (op === 'grant') {
        const out = await commitDecisions(
          db,
          [{ key, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }],
          now,
        );
        outcome = out.rejected[0] ? `rejected:${out.rejected[0].reason}` : 'granted';
      } else {
        if (op === 'start') await markRunning(db, key, 1000, now);
        if (op === 'renew') await renewLease(db, key, 1000, now);
        if (op === 'release') await releaseReservation(db, key, now);
        if (op === 'cancel')
          await cancelWorkflowReservations(db, (await getReservation(db, key)).workflowId, now);
        outcome = (await getReservation(db, key)).state;
      }
    } catch (err) {
      outcome = (err as Error).name;
    }
    expect(outcome).toBe(expected);
    await releaseReservation(db, key, at(4));
  });
});

describe('grants, leases and the invariant', () => {
  it.each<LockStrategy>(['row-locks', 'serializable'])(
    're-checks capacity inside the commit (%s)',
    async (strategy) => {
      const a = (await requestReservation(db, request({ desired: { cpu: 4 }, minimum: { cpu: 2 } }), T0))
        .reservation.key;
      const b = (await requestReservation(db, request({ desired: { cpu: 4 }, minimum: { cpu: 2 } }), T0))
        .reservation.key;
      const c = (await requestReservation(db, request({ desired: { cpu: 1 }, minimum: { cpu: 1 } }), T0))
        .reservation.key;
      const out = await commitDecisions(
        db,
        [
          {
            key: a,
            nodeId: 'n2',
            granted: { cpu: 3 },
            leaseMs: 1000,
            score: 0.9,
            breakdown: { priority: 0.5 },
            reason: 'fits',
          },
          { key: b, nodeId: 'n2', granted: { cpu: 3 }, leaseMs: 1000 },
          { key: c, nodeId: 'n2', granted: { cpu: 0.5 }, leaseMs: 1000 },
          { key: a, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 },
        ],
        T0,
        { strategy },
      );
      expect(out.granted.map((g) => g.key)).toEqual([a]);
      expect(out.rejected.map((r) => [r.key, r.reason])).toEqual([
        [b, 'insufficient-capacity'],
        [c, 'below-minimum'],
        [a, 'duplicate-in-batch'],
      ]);
      expect(out.rejected[0]?.detail).toContain('cpu');
      expect(await getReservation(db, a)).toMatchObject({
        state: 'granted',
        nodeId: 'n2',
        lastScore: 0.9,
        reason: 'fits',
      });
      expect((await getReservation(db, b)).state).toBe('pending');
      expect(await checkInvariant(db)).toEqual([]);
      await releaseReservation(db, a, at(1));
      await releaseReservation(db, b, at(1));
      await releaseReservation(db, c, at(1));
    },
  );

  it('refuses unknown nodes and pools without writing anything', async () => {
    const a = (await requestReservation(db, request(), T0)).reservation.key;
    const b = (await requestReservation(db, request(), T0)).reservation.key;
    const err = await errorOf(
      commitDecisions(
        db,
        [
          { key: a, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 },
          { key: b, nodeId: 'ghost', granted: { cpu: 1 }, leaseMs: 1000 },
        ],
        T0,
      ),
    );
    expect(err).toMatchObject({ name: 'UnknownNodeError', nodeId: 'ghost' });
    expect((await getReservation(db, a)).state).toBe('pending');
    expect(
      await errorOf(
        commitDecisions(db, [{ key: a, nodeId: 'n1', granted: { cpu: 1, 'no-pool': 1 }, leaseMs: 1 }], T0),
      ),
    ).toMatchObject({ name: 'UnknownPoolError', poolName: 'no-pool' });
    expect(
      await errorOf(commitDecisions(db, [{ key: a, nodeId: 'n1', granted: { cpu: -1 }, leaseMs: 1 }], T0)),
    ).toMatchObject({ name: 'InvalidQuantityError', path: 'decisions[0].granted.cpu', value: -1 });
    await releaseReservation(db, a, T0);
    await releaseReservation(db, b, T0);
  });

  it('grants nothing on a stale node', async () => {
    await registerNode(db, { id: 'old', capacity: { cpu: 4 } }, T0);
    const key = (await requestReservation(db, request(), T0)).reservation.key;
    const staleAt = at(60_000);
    const snap = await snapshot(db, staleAt, { staleAfterMs: 30_000 });
    expect(snap.nodes.find((n) => n.id === 'old')?.stale).toBe(true);
    const out = await commitDecisions(
      db,
      [{ key, nodeId: 'old', granted: { cpu: 1 }, leaseMs: 1000 }],
      staleAt,
      {
        staleAfterMs: 30_000,
      },
    );
    expect(out.rejected[0]?.reason).toBe('node-stale');
    await heartbeatNode(db, 'old', staleAt);
    const again = await commitDecisions(
      db,
      [{ key, nodeId: 'old', granted: { cpu: 1 }, leaseMs: 1000 }],
      staleAt,
    );
    expect(again.granted).toHaveLength(1);
    await releaseReservation(db, key, staleAt);
  });

  it('lease expiry returns capacity; renewal after expiry is refused', async () => {
    const key = (await requestReservation(db, request({ desired: { cpu: 4, 'db-connections': 10 } }), T0))
      .reservation.key;
    await commitDecisions(
      db,
      [{ key, nodeId: 'n2', granted: { cpu: 4, 'db-connections': 10 }, leaseMs: 1000 }],
      T0,
    );
    const renewed = await renewLease(db, key, 2000, at(500));
    expect(renewed).toMatchObject({
      state: 'granted',
      nodeId: 'n2',
      granted: { cpu: 4, 'db-connections': 10 },
      leaseExpiresAt: at(2500),
    });
    let snap = await snapshot(db, at(600));
    expect(snap.nodes.find((n) => n.id === 'n2')?.free.cpu).toBe(0);
    expect(snap.pools.find((p) => p.name === 'db-connections')?.free).toBe(0);
    expect(await expireLapsed(db, at(2499))).toEqual([]);
    expect(await expireLapsed(db, at(2500))).toEqual([key]);
    snap = await snapshot(db, at(2600));
    expect(snap.nodes.find((n) => n.id === 'n2')?.granted).toEqual({});
    expect(snap.pools.find((p) => p.name === 'db-connections')?.granted).toBe(0);
    expect(await errorOf(renewLease(db, key, 1000, at(2600)))).toMatchObject({
      name: 'LeaseExpiredError',
      key,
      expiredAt: at(2500),
    });
  });

  it('a renewal past the lease expires it in the same call, even before expireLapsed runs', async () => {
    const key = (await requestReservation(db, request(), T0)).reservation.key;
    await commitDecisions(db, [{ key, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], T0);
    expect(await errorOf(renewLease(db, key, 1000, at(1000)))).toMatchObject({ name: 'LeaseExpiredError' });
    expect(await getReservation(db, key)).toMatchObject({ state: 'expired', endedAt: at(1000) });
  });

  it('a live start or renewal is one statement; a lapsed one falls back to the transaction and expires it', async () => {
    const seen: string[] = [];
    const watched = { ...db, observer: (e: { operation: string }) => seen.push(e.operation) } as Database;
    const key = (await requestReservation(db, request(), T0)).reservation.key;
    await commitDecisions(db, [{ key, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], T0);
    const started = await markRunning(watched, key, 1000, at(400));
    expect(started).toMatchObject({
      state: 'running',
      nodeId: 'n1',
      leaseExpiresAt: at(1400),
      leaseRemainingMs: 1000,
    });
    expect(await getReservation(db, key)).toMatchObject({ state: 'running', startedAt: at(400) });
    const renewed = await renewLease(watched, key, 1000, at(900));
    expect(renewed).toMatchObject({ state: 'running', leaseExpiresAt: at(1900) });
    // A second start (an activity retried after it started) keeps the first start time.
    await markRunning(watched, key, 1000, at(1000));
    expect(await getReservation(db, key)).toMatchObject({ state: 'running', startedAt: at(400) });
    expect(seen).toEqual(['start reservation', 'renew lease', 'start reservation']);
    seen.length = 0;
    expect(await errorOf(renewLease(watched, key, 1000, at(2000)))).toMatchObject({
      name: 'LeaseExpiredError',
    });
    expect(seen).toEqual(['renew lease', 'renew lease']);
    expect(await getReservation(db, key)).toMatchObject({ state: 'expired', endedAt: at(2000) });
  });

  it('snapshot lists pending requests, holdings and active boosts', async () => {
    const p = (await requestReservation(db, request({ importance: 2 }), at(100))).reservation.key;
    await commitDecisions(db, [], at(100), {
      waiting: [{ key: p, score: 0.4, breakdown: { age: 0.1 }, reason: 'no node fits cpu' }],
    });
    const snap = await snapshot(db, at(200));
    expect(snap.pending.find((r) => r.key === p)).toMatchObject({
      importance: 2,
      lastScore: 0.4,
      reason: 'no node fits cpu',
    });
    expect(snap.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'old']);
    await releaseReservation(db, p, at(300));
  });

  it('cancels every live reservation of a workflow, once', async () => {
    const wf = 'wf-cancel';
    const a = (await requestReservation(db, request({ workflowId: wf }), T0)).reservation.key;
    const b = (await requestReservation(db, request({ workflowId: wf }), T0)).reservation.key;
    await commitDecisions(db, [{ key: a, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], T0);
    expect(await cancelWorkflowReservations(db, wf, at(1))).toEqual([a, b].sort());
    expect(await cancelWorkflowReservations(db, wf, at(2))).toEqual([]);
    expect((await getReservation(db, a)).state).toBe('cancelled');
  });
});

describe('boosts', () => {
  it('adds, lists active, expires, and audits every boost', async () => {
    const b1 = await addBoost(
      db,
      { workflowId: 'wf-b', amount: 3, expiresAt: at(1000), reason: 'deadline', actor: 'ana' },
      T0,
    );
    await addBoost(
      db,
      { workflowId: 'wf-b', amount: 1, expiresAt: at(5000), reason: 'vip', actor: 'bo' },
      T0,
    );
    expect((await listActiveBoosts(db, at(500), 'wf-b')).map((b) => b.amount)).toEqual([3, 1]);
    expect((await listActiveBoosts(db, at(1000), 'wf-b')).map((b) => b.amount)).toEqual([1]);
    expect(await expireBoosts(db, at(1000))).toEqual([b1.id]);
    expect(await expireBoosts(db, at(1000))).toEqual([]);
    expect((await snapshot(db, at(1000))).boosts.map((b) => b.reason)).toEqual(['vip']);
    const audit = await listBoostAudit(db, 'wf-b');
    expect(audit.map((a) => [a.action, a.reason, a.actor])).toEqual([
      ['added', 'deadline', 'ana'],
      ['added', 'vip', 'bo'],
      ['expired', 'deadline', 'ana'],
    ]);
    expect(
      await errorOf(
        addBoost(db, { workflowId: 'w', amount: Number.NaN, expiresAt: at(1), reason: 'r', actor: 'a' }, T0),
      ),
    ).toMatchObject({ name: 'InvalidQuantityError', path: 'boost.amount' });
    expect(
      await errorOf(addBoost(db, { workflowId: 'w', amount: 1, expiresAt: T0, reason: 'r', actor: 'a' }, T0)),
    ).toMatchObject({ name: 'InvalidLedgerArgumentError', path: 'boost.expiresAt' });
  });
});
