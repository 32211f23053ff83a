import type { Database } from '../../../src/ledger/db';
import { commitDecisions } from '../../../src/ledger/commit';
import { checkInvariant } from '../../../src/ledger/invariant';
import { registerNode } from '../../../src/ledger/nodes';
import { setPoolCapacity } from '../../../src/ledger/pools';
import {
  getReservation,
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
} from '../../../src/ledger/reservations';
import {
  acceptShrink,
  checkOfferVector,
  declineShrink,
  expireShrinkOffers,
  offerShrinks,
  shrinkState,
} from '../../../src/ledger/shrink';
import { snapshot } from '../../../src/ledger/snapshot';
import type { ResourceVector } from '../../../src/ledger/types';
import { dropSchema, openTestDatabase } from '../../support/env';
import { errorOf } from '../../support/errors';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const LEASE = 600_000;

let db: Database;
let seq = 0;

beforeAll(async () => {
  db = await openTestDatabase('qm_shrink');
  await setPoolCapacity(db, 'lic', 4, T0);
});
afterAll(async () => {
  await dropSchema(db);
});

/** A fresh node of 4 cpu / 4096 MiB, so its sums belong to one test. */
async function node(): Promise<string> {
  const id = `n${++seq}`;
  await registerNode(db, { id, capacity: { cpu: 4, memoryMb: 4096 } }, T0);
  return id;
}

/** A running reservation on `nodeId` holding `granted` (minimum `minimum`). */
async function running(nodeId: string, granted: ResourceVector, minimum: ResourceVector): Promise<string> {
  const key = `held-${++seq}`;
  await requestReservation(
    db,
    { key, workflowId: `wf-${key}`, stageId: 's', priority: 1, desired: granted, minimum },
    T0,
  );
  const out = await commitDecisions(db, [{ key, nodeId, granted, leaseMs: LEASE }], at(1));
  expect(out.granted).toHaveLength(1);
  await markRunning(db, key, LEASE, at(2));
  return key;
}

/** A pending (blocked) request. */
async function blocked(desired: ResourceVector = { cpu: 3 }): Promise<string> {
  const key = `blocked-${++seq}`;
  await requestReservation(db, { key, workflowId: `wf-${key}`, stageId: 's', priority: 10, desired }, T0);
  return key;
}

async function nodeGranted(nodeId: string): Promise<ResourceVector> {
  const snap = await snapshot(db, at(10));
  return snap.nodes.find((n) => n.id === nodeId)?.granted ?? {};
}

describe('checkOfferVector (pure)', () => {
  it.each<[ResourceVector, ResourceVector, ResourceVector, string | null]>([
    [{ cpu: 4 }, { cpu: 1 }, { cpu: 1 }, null],
    [{ cpu: 4, memoryMb: 100 }, { cpu: 1 }, { cpu: 2, memoryMb: 100 }, null],
    [{ cpu: 4 }, { cpu: 1 }, { cpu: 0.5 }, 'invalid-vector'],
    [{ cpu: 4 }, { cpu: 1 }, { cpu: 5 }, 'invalid-vector'],
    [{ cpu: 4 }, { cpu: 1 }, { cpu: 4 }, 'no-change'],
    [{ cpu: 4 }, { cpu: 1 }, { cpu: 2, gpu: 0 }, 'invalid-vector'],
    [{ cpu: 4, memoryMb: 100 }, { cpu: 1 }, { cpu: 2 }, 'invalid-vector'],
  ])('granted %j, minimum %j, offer %j → %s', (granted, minimum, to, reason) => {
    expect(checkOfferVector(granted, minimum, to)?.reason ?? null).toBe(reason);
  });
});

describe('offer, renew, accept', () => {
  it('the renewal carries the offer; accepting frees exactly the difference on the node and the pool', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4, memoryMb: 2048, lic: 3 }, { cpu: 1, memoryMb: 1024, lic: 1 });
    const forKey = await blocked();
    expect(await nodeGranted(n)).toEqual({ cpu: 4, memoryMb: 2048 });
    const before = (await snapshot(db, at(10))).pools.find((p) => p.name === 'lic')?.granted ?? 0;

    const out = await offerShrinks(db, [{ key, to: { cpu: 1, memoryMb: 1536, lic: 1 }, forKey }], at(100));
    expect(out.skipped).toEqual([]);
    expect(out.offered).toEqual([
      {
        key,
        nodeId: n,
        from: { cpu: 4, memoryMb: 2048, lic: 3 },
        to: { cpu: 1, memoryMb: 1536, lic: 1 },
        forKey,
        offeredAt: at(100),
      },
    ]);
    // Nothing is freed by the offer itself.
    expect(await nodeGranted(n)).toEqual({ cpu: 4, memoryMb: 2048 });

    const renewed = await renewLease(db, key, LEASE, at(200));
    expect(renewed.offer).toMatchObject({
      to: { cpu: 1, memoryMb: 1536, lic: 1 },
      forKey,
      offeredAt: at(100),
    });
    expect((await shrinkState(db, at(200), { cooldownMs: 60_000 })).pending.map((o) => o.key)).toContain(key);

    const result = await acceptShrink(db, { key, offeredAt: at(100) }, at(300));
    expect(result).toEqual({
      key,
      nodeId: n,
      from: { cpu: 4, memoryMb: 2048, lic: 3 },
      granted: { cpu: 1, memoryMb: 1536, lic: 1 },
      freed: { cpu: 3, memoryMb: 512, lic: 2 },
    });
    expect(await nodeGranted(n)).toEqual({ cpu: 1, memoryMb: 1536 });
    const after = (await snapshot(db, at(10))).pools.find((p) => p.name === 'lic')?.granted ?? 0;
    expect(before - after).toBeCloseTo(2, 9);
    expect((await getReservation(db, key)).granted).toEqual({ cpu: 1, memoryMb: 1536, lic: 1 });
    expect((await renewLease(db, key, LEASE, at(400))).offer).toBeNull();
    expect(await checkInvariant(db)).toEqual([]);

    // The freed capacity can now be granted to the blocked request.
    const grant = await commitDecisions(
      db,
      [{ key: forKey, nodeId: n, granted: { cpu: 3 }, leaseMs: LEASE }],
      at(500),
    );
    expect(grant.granted).toHaveLength(1);
    expect(await checkInvariant(db)).toEqual([]);
    await releaseReservation(db, key, at(600));
    await releaseReservation(db, forKey, at(600));
  });

  it('refuses offers that are invalid, duplicate, on a non-held reservation, or for a request not pending', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4 }, { cpu: 2 });
    const other = await running(n, { cpu: 0 }, { cpu: 0 });
    const forKey = await blocked();
    const waiting = await blocked();
    const out = await offerShrinks(
      db,
      [
        { key, to: { cpu: 1 }, forKey }, // below minimum
        { key, to: { cpu: 4 }, forKey }, // no change
        { key: 'ghost', to: { cpu: 1 }, forKey },
        { key: waiting, to: { cpu: 1 }, forKey }, // pending: holds nothing
        { key, to: { cpu: 3 }, forKey: other }, // "for" a running one
        { key, to: { cpu: 2 }, forKey }, // valid
        { key, to: { cpu: 3 }, forKey }, // a second offer in the same batch
      ],
      at(100),
    );
    expect(out.offered.map((o) => [o.key, o.to])).toEqual([[key, { cpu: 2 }]]);
    expect(out.skipped.map((s) => s.reason)).toEqual([
      'invalid-vector',
      'no-change',
      'unknown-reservation',
      'not-held',
      'request-not-pending',
      'offer-pending',
    ]);
    expect(out.skipped[0]?.detail).toContain('minimum 2');
    // A later offer while this one waits is refused too: one offer at a time.
    const again = await offerShrinks(db, [{ key, to: { cpu: 3 }, forKey }], at(200));
    expect(again.skipped.map((s) => s.reason)).toEqual(['offer-pending']);
    expect(await checkInvariant(db)).toEqual([]);
    for (const k of [key, other, forKey, waiting]) await releaseReservation(db, k, at(300));
  });

  it('exactly one of two concurrent acceptances of the same offer goes through', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4 }, { cpu: 1 });
    const forKey = await blocked();
    await offerShrinks(db, [{ key, to: { cpu: 2 }, forKey }], at(100));
    const outcomes = await Promise.allSettled([
      acceptShrink(db, { key, offeredAt: at(100) }, at(200)),
      acceptShrink(db, { key, offeredAt: at(100) }, at(200)),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((failed.reason as { name: string; reason: string }).name).toBe('StaleShrinkOfferError');
    expect((failed.reason as { reason: string }).reason).toBe('no-offer');
    expect(await nodeGranted(n)).toEqual({ cpu: 2 });
    await releaseReservation(db, key, at(300));
    await releaseReservation(db, forKey, at(300));
  });
});

describe('stale, declined and withdrawn offers', () => {
  it('an unanswered offer expires, counts as declined for the cooldown, and cannot be accepted afterwards', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4 }, { cpu: 1 });
    const forKey = await blocked();
    await offerShrinks(db, [{ key, to: { cpu: 1 }, forKey }], at(1_000));
    // (Other tests' leftovers on released reservations may be withdrawn here; this one is young and needed.)
    const early = await expireShrinkOffers(db, at(10_000), { maxAgeMs: 15_000 });
    expect([...early.expired, ...early.withdrawn]).not.toContain(key);
    const cleared = await expireShrinkOffers(db, at(16_000), { maxAgeMs: 15_000 });
    expect(cleared.expired).toContain(key);
    expect(cleared.withdrawn).not.toContain(key);

    const err = await errorOf(acceptShrink(db, { key, offeredAt: at(1_000) }, at(17_000)));
    expect(err).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'no-offer', retryable: false });
    expect(await nodeGranted(n)).toEqual({ cpu: 4 });
    expect((await getReservation(db, key)).granted).toEqual({ cpu: 4 });

    expect((await shrinkState(db, at(17_000), { cooldownMs: 60_000 })).declined).toContain(key);
    expect((await shrinkState(db, at(77_000), { cooldownMs: 60_000 })).declined).not.toContain(key);
    await releaseReservation(db, key, at(80_000));
    await releaseReservation(db, forKey, at(80_000));
  });

  it('a declined offer is cleared and stamped; declining twice or accepting it afterwards changes nothing', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4 }, { cpu: 1 });
    const forKey = await blocked();
    await offerShrinks(db, [{ key, to: { cpu: 1 }, forKey }], at(100));
    expect(await declineShrink(db, { key, offeredAt: at(100) }, at(200))).toBe(true);
    expect(await declineShrink(db, { key, offeredAt: at(100) }, at(300))).toBe(false);
    const err = await errorOf(acceptShrink(db, { key, offeredAt: at(100) }, at(300)));
    expect(err).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'no-offer' });
    expect(await nodeGranted(n)).toEqual({ cpu: 4 });
    const state = await shrinkState(db, at(400), { cooldownMs: 60_000 });
    expect(state.declined).toContain(key);
    expect(state.pending.map((o) => o.key)).not.toContain(key);
    expect((await renewLease(db, key, LEASE, at(500))).offer).toBeNull();
    await releaseReservation(db, key, at(600));
    await releaseReservation(db, forKey, at(600));
  });

  it('an offer is withdrawn (not declined) once its request is granted elsewhere or goes away', async () => {
    const n = await node();
    const spare = await node();
    const a = await running(n, { cpu: 2 }, { cpu: 1 });
    const b = await running(n, { cpu: 2 }, { cpu: 1 });
    const forA = await blocked();
    const forB = await blocked();
    await offerShrinks(
      db,
      [
        { key: a, to: { cpu: 1 }, forKey: forA },
        { key: b, to: { cpu: 1 }, forKey: forB },
      ],
      at(100),
    );
    await commitDecisions(db, [{ key: forA, nodeId: spare, granted: { cpu: 3 }, leaseMs: LEASE }], at(200));
    await releaseReservation(db, forB, at(200));
    const cleared = await expireShrinkOffers(db, at(300), { maxAgeMs: 15_000 });
    expect(cleared.withdrawn).toEqual(expect.arrayContaining([a, b]));
    expect(cleared.expired).toEqual([]);
    const state = await shrinkState(db, at(300), { cooldownMs: 60_000 });
    expect(state.declined).not.toContain(a);
    expect(state.pending.map((o) => o.key)).not.toContain(a);
    const err = await errorOf(acceptShrink(db, { key: a, offeredAt: at(100) }, at(400)));
    expect(err).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'no-offer' });
    expect(await nodeGranted(n)).toEqual({ cpu: 4 });
    for (const k of [a, b, forA]) await releaseReservation(db, k, at(500));
  });

  it('accepting a superseded offer or one on a released reservation is refused with its reason', async () => {
    const n = await node();
    const key = await running(n, { cpu: 4 }, { cpu: 1 });
    const forKey = await blocked();
    await offerShrinks(db, [{ key, to: { cpu: 2 }, forKey }], at(100));
    const superseded = await errorOf(acceptShrink(db, { key, offeredAt: at(99) }, at(200)));
    expect(superseded).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'superseded' });
    await releaseReservation(db, key, at(300));
    const gone = await errorOf(acceptShrink(db, { key, offeredAt: at(100) }, at(400)));
    expect(gone).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'not-held' });
    const unknown = await errorOf(acceptShrink(db, { key: 'ghost', offeredAt: at(100) }, at(400)));
    expect(unknown).toMatchObject({ name: 'StaleShrinkOfferError', reason: 'not-held' });
    expect((await getReservation(db, key)).granted).toEqual({ cpu: 4 });
    // The released reservation's leftover offer is withdrawn by the next sweep.
    expect((await expireShrinkOffers(db, at(500), { maxAgeMs: 15_000 })).withdrawn).toContain(key);
    await releaseReservation(db, forKey, at(600));
  });
});

describe('the invariant covers shrinks', () => {
  it('reports a held reservation below its minimum and an offer outside [minimum, granted]', async () => {
    const n = await node();
    const low = await running(n, { cpu: 2 }, { cpu: 2 });
    const high = await running(n, { cpu: 2 }, { cpu: 1 });
    const forKey = await blocked();
    expect(await checkInvariant(db)).toEqual([]);
    // Tamper behind the API's back: the invariant must catch both.
    await db.pool.query(`UPDATE qm_reservations SET granted = '{"cpu": 1}' WHERE key = $1`, [low]);
    await db.pool.query(
      `UPDATE qm_reservations SET offer_to = '{"cpu": 3}', offer_for = $2, offered_at = $3 WHERE key = $1`,
      [high, forKey, at(100)],
    );
    const violations = await checkInvariant(db);
    expect(violations).toEqual([
      { kind: 'offer', nodeId: n, resource: 'cpu', capacity: 3, granted: 2, key: high },
      { kind: 'reservation', nodeId: n, resource: 'cpu', capacity: 2, granted: 1, key: low },
    ]);
    await db.pool.query(
      `UPDATE qm_reservations SET offer_to = NULL, offer_for = NULL, offered_at = NULL WHERE key = $1`,
      [high],
    );
    for (const k of [low, high, forKey]) await releaseReservation(db, k, at(500));
    expect(await checkInvariant(db)).toEqual([]);
  });
});
