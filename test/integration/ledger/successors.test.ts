import { runLedgerCycle } from '../../../src/admission/ledger-cycle';
import { expireLapsed } from '../../../src/ledger/admission';
import { commitDecisions, type GrantDecision } from '../../../src/ledger/commit';
import type { Database } from '../../../src/ledger/db';
import { checkInvariant } from '../../../src/ledger/invariant';
import { registerNode } from '../../../src/ledger/nodes';
import {
  getReservation,
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
} from '../../../src/ledger/reservations';
import { offerShrinks } from '../../../src/ledger/shrink';
import { snapshot } from '../../../src/ledger/snapshot';
import { compileSchedulerConfig } from '../../../src/scheduling/config';
import { dropSchema, openTestDatabase } from '../../support/env';
import { expectSoundThenEmpty } from '../../support/ledger-reset';

// Successor grants on the real ledger (migration 010): committed behind a held reservation and counted once,
// promoted by whatever ends the predecessor (release, expiry), announced, and gated until then.
let db: Database;
let seq = 0;
const LEASE = 60_000;

beforeAll(async () => {
  db = await openTestDatabase('qm_successors');
  await registerNode(db, { id: 'n1', capacity: { cpu: 2 } });
  await registerNode(db, { id: 'n2', capacity: { cpu: 2 } });
});
afterAll(() => dropSchema(db));
afterEach(() => expectSoundThenEmpty(db));

async function ask(cpu: number, extra: { expectedSeconds?: number; minimum?: number } = {}): Promise<string> {
  seq++;
  const key = `s${seq}`;
  await requestReservation(db, {
    key,
    workflowId: `wf${seq}`,
    stageId: 's',
    priority: 5,
    desired: { cpu },
    ...(extra.minimum === undefined ? {} : { minimum: { cpu: extra.minimum } }),
    ...(extra.expectedSeconds === undefined ? {} : { expectedSeconds: extra.expectedSeconds }),
    leaseMs: LEASE,
  });
  return key;
}

/** A running reservation of `cpu` on `node`. */
async function runningOn(node: string, cpu: number, expectedSeconds?: number): Promise<string> {
  const key = await ask(cpu, expectedSeconds === undefined ? {} : { expectedSeconds });
  const { granted } = await commitDecisions(db, [{ key, nodeId: node, granted: { cpu }, leaseMs: LEASE }]);
  expect(granted.map((g) => g.key)).toEqual([key]);
  await markRunning(db, key, LEASE);
  return key;
}

const behind = (
  key: string,
  predecessor: string,
  cpu: number,
  nodeId = 'n1',
  leaseMs = LEASE,
): GrantDecision => ({
  key,
  nodeId,
  granted: { cpu },
  leaseMs,
  behind: predecessor,
});

async function heldOn(node: string): Promise<number> {
  const snap = await snapshot(db);
  return snap.nodes.find((n) => n.id === node)?.granted.cpu ?? 0;
}

test('a successor is counted once (as its predecessor), may not start, and is promoted and announced by the release', async () => {
  const p = await runningOn('n1', 2);
  const s = await ask(2);
  const result = await commitDecisions(db, [behind(s, p, 2)]);
  expect(result.rejected).toEqual([]);
  expect(result.granted[0]).toMatchObject({ key: s, nodeId: 'n1', behind: p });
  // The node is full with p alone: s is granted without anything more held.
  expect(await heldOn('n1')).toBe(2);
  expect(await getReservation(db, s)).toMatchObject({ state: 'granted', behind: p, promotedAt: null });
  // Its stage reaches the node: the gate keeps it granted, renewing its lease.
  const gated = await markRunning(db, s, LEASE);
  expect(gated).toMatchObject({ state: 'granted', behind: p });
  expect((await getReservation(db, s)).startedAt).toBeNull();
  expect(await renewLease(db, s, LEASE)).toMatchObject({ state: 'granted', behind: p });

  const sub = await db.decisions.subscribe(s);
  try {
    await releaseReservation(db, p, undefined, { outcome: 'completed' });
    expect(await sub.next(5_000)).toBe('notified');
  } finally {
    sub.close();
  }
  const promoted = await getReservation(db, s);
  expect(promoted).toMatchObject({ state: 'granted', behind: null });
  expect(promoted.promotedAt).toBeInstanceOf(Date);
  expect(await heldOn('n1')).toBe(2);
  expect(await markRunning(db, s, LEASE)).toMatchObject({ state: 'running', behind: null });
});

test('a predecessor whose lease lapses (its worker died) promotes its successor when it is expired', async () => {
  const p = await ask(1);
  await commitDecisions(db, [{ key: p, nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 300 }]);
  const s = await ask(1);
  expect((await commitDecisions(db, [behind(s, p, 1)])).rejected).toEqual([]);
  await new Promise((r) => setTimeout(r, 400));
  expect(await expireLapsed(db)).toEqual([p]);
  expect(await getReservation(db, p)).toMatchObject({ state: 'expired' });
  expect(await getReservation(db, s)).toMatchObject({ state: 'granted', behind: null });
  expect(await heldOn('n1')).toBe(1);
});

test('a successor whose own requester is gone lapses; its predecessor then ends promoting nothing', async () => {
  const p = await runningOn('n1', 1);
  const s = await ask(1);
  await commitDecisions(db, [behind(s, p, 1, 'n1', 300)]);
  await new Promise((r) => setTimeout(r, 400));
  expect(await expireLapsed(db)).toEqual([s]);
  await releaseReservation(db, p);
  expect(await getReservation(db, s)).toMatchObject({ state: 'expired', behind: p, promotedAt: null });
  expect(await heldOn('n1')).toBe(0);
});

test('a successor grant is refused when it cannot be carved from its predecessor, with the reason', async () => {
  const p = await runningOn('n1', 1);
  const other = await runningOn('n2', 1);
  const ended = await runningOn('n1', 1);
  await releaseReservation(db, ended);
  const offered = await ask(0.5, { minimum: 0.25 });
  await commitDecisions(db, [{ key: offered, nodeId: 'n2', granted: { cpu: 0.5 }, leaseMs: LEASE }]);
  const forKey = await ask(1);
  const offer = await offerShrinks(db, [{ key: offered, to: { cpu: 0.25 }, forKey }], new Date());
  expect(offer).toMatchObject({ skipped: [], offered: [expect.anything()] });
  const keys = await Promise.all([1, 2, 3, 4, 5].map(() => ask(1, { minimum: 0.5 })));
  const [tooBig, elsewhere, afterEnd, onOffer, onSelf] = keys as [string, string, string, string, string];
  const result = await commitDecisions(db, [
    { ...behind(tooBig, p, 2) },
    behind(elsewhere, other, 1, 'n1'),
    behind(afterEnd, ended, 1),
    behind(onOffer, offered, 0.5, 'n2'),
    behind(onSelf, p, 1),
  ]);
  const why = Object.fromEntries(result.rejected.map((r) => [r.key, r.detail]));
  expect(result.rejected.every((r) => r.reason === 'predecessor-unavailable')).toBe(true);
  expect(why[tooBig]).toMatch(/cpu: asked 2, ".*" holds 1/);
  expect(why[elsewhere]).toMatch(/is on node "n2", not "n1"/);
  expect(why[afterEnd]).toMatch(/is released, not held/);
  expect(why[onOffer]).toMatch(/pending shrink offer/);
  // The last one is fine: behind p, the only accepted grant.
  expect(result.granted.map((g) => g.key)).toEqual([onSelf]);
  // A second successor behind p is refused; one behind the successor (a chain) is not.
  const [second, chained] = await Promise.all([ask(1), ask(1)]);
  const more = await commitDecisions(db, [behind(second, p, 1), behind(chained, onSelf, 1)]);
  expect(Object.fromEntries(more.rejected.map((r) => [r.key, r.detail]))).toEqual({
    [second]: `"${p}" already has a successor`,
  });
  expect(more.granted.map((g) => [g.key, g.behind])).toEqual([[chained, onSelf]]);
  for (const k of [tooBig, elsewhere, afterEnd, onOffer, second])
    expect((await getReservation(db, k)).state).toBe('pending');
});

test('a chain: a link whose requester is gone hands its place to the next, which is promoted only when the holder ends', async () => {
  const p = await runningOn('n1', 2);
  const [s1, s2] = [await ask(2), await ask(2)];
  await commitDecisions(db, [behind(s1, p, 2, 'n1', 300)]);
  expect((await commitDecisions(db, [behind(s2, s1, 2)])).rejected).toEqual([]);
  expect(await heldOn('n1')).toBe(2);
  await new Promise((r) => setTimeout(r, 400));
  // s1 lapses while p still runs: s2 moves up behind p, not promoted (p's capacity is still p's).
  expect(await expireLapsed(db)).toEqual([s1]);
  expect(await getReservation(db, s2)).toMatchObject({ state: 'granted', behind: p, promotedAt: null });
  expect(await checkInvariant(db)).toEqual([]);
  expect(await markRunning(db, s2, LEASE)).toMatchObject({ state: 'granted', behind: p });
  const sub = await db.decisions.subscribe(s2);
  try {
    await releaseReservation(db, p);
    expect(await sub.next(5_000)).toBe('notified');
  } finally {
    sub.close();
  }
  expect(await markRunning(db, s2, LEASE)).toMatchObject({ state: 'running', behind: null });
  expect(await heldOn('n1')).toBe(2);
});

test('a predecessor and its successor are never offered a smaller allocation', async () => {
  // Both could shrink to 1 cpu (minimum 1): only the chain stops it.
  const p = await ask(2, { minimum: 1 });
  await commitDecisions(db, [{ key: p, nodeId: 'n1', granted: { cpu: 2 }, leaseMs: LEASE }]);
  const s = await ask(2, { minimum: 1 });
  await commitDecisions(db, [behind(s, p, 2)]);
  const forKey = await ask(1);
  const result = await offerShrinks(
    db,
    [
      { key: p, to: { cpu: 1 }, forKey },
      { key: s, to: { cpu: 1 }, forKey },
    ],
    new Date(),
  );
  expect(result.offered).toEqual([]);
  expect(result.skipped.map((x) => [x.key, x.reason])).toEqual([
    [p, 'followed'],
    [s, 'followed'],
  ]);
});

test('a chain decided in one cycle is committed in one batch: each link behind the one granted before it', async () => {
  const p = await runningOn('n1', 2);
  const [a, b, c] = [await ask(2), await ask(2), await ask(2)];
  const result = await commitDecisions(db, [behind(a, p, 2), behind(b, a, 2), behind(c, b, 2)]);
  expect(result.rejected).toEqual([]);
  expect(result.granted.map((g) => [g.key, g.behind])).toEqual([
    [a, p],
    [b, a],
    [c, b],
  ]);
  expect(await heldOn('n1')).toBe(2);
  await releaseReservation(db, p);
  expect((await getReservation(db, a)).behind).toBeNull();
  expect((await getReservation(db, b)).behind).toBe(a);
});

test('twenty simultaneous successor grants behind one predecessor: exactly one is written', async () => {
  const p = await runningOn('n1', 2);
  const keys = await Promise.all(Array.from({ length: 20 }, () => ask(1)));
  const results = await Promise.all(keys.map((k) => commitDecisions(db, [behind(k, p, 1)])));
  expect(results.flatMap((r) => r.granted)).toHaveLength(1);
  expect(results.flatMap((r) => r.rejected.map((x) => x.reason))).toEqual(
    Array.from({ length: 19 }, () => 'predecessor-unavailable'),
  );
});

test('the ledger cycle grants the head of the queue behind a running stage expected to end within the horizon', async () => {
  const config = compileSchedulerConfig({});
  const options = {
    config,
    leaseMs: LEASE,
    staleAfterMs: 60_000,
    shrinkOfferTtlMs: 15_000,
    refresh: 'never' as const,
    byScheduler: false,
  };
  // Both nodes full: a stage on n1 expected to run 0.5 s, one on n2 expected to run an hour.
  const short = await runningOn('n1', 2, 0.5);
  await runningOn('n2', 2, 3600);
  const head = await ask(1);
  const next = await ask(1);
  const off = await runLedgerCycle(db, { ...options, successorHorizonMs: 0 });
  expect(off.committed.granted).toEqual([]);
  const on = await runLedgerCycle(db, { ...options, successorHorizonMs: 1000 });
  expect(on.committed.granted).toEqual([expect.objectContaining({ key: head, nodeId: 'n1', behind: short })]);
  expect(await getReservation(db, next)).toMatchObject({ state: 'pending' });
  // The followed stage is no predecessor again, and no longer counts as releasing for backfill.
  const again = await runLedgerCycle(db, { ...options, successorHorizonMs: 1000 });
  expect(again.committed.granted).toEqual([]);
});
