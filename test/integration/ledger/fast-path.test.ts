import type { Database } from '../../../src/ledger/db';
import { requestAdmission, type FastPathAnswer } from '../../../src/ledger/admission';
import { checkInvariant } from '../../../src/ledger/invariant';
import { registerNode } from '../../../src/ledger/nodes';
import { getReservation, releaseReservation } from '../../../src/ledger/reservations';
import type { LedgerSnapshot } from '../../../src/ledger/snapshot';
import { dropSchema, openTestDatabase } from '../../support/env';

// The fast path's own concurrency: requests recorded at the same moment, each deciding on its bounded
// snapshot. A plain "does it fit on n1" stands in for the scheduling core.
let db: Database;
let seq = 0;

beforeAll(async () => {
  db = await openTestDatabase('qm_fast');
  await registerNode(db, { id: 'n1', capacity: { cpu: 4 } });
});
afterAll(() => dropSchema(db));

const fitsOnN1 = (snap: LedgerSnapshot): FastPathAnswer => {
  const request = snap.pending[0];
  const free = snap.nodes.find((n) => n.id === 'n1')?.free.cpu ?? 0;
  if (request === undefined || (request.desired.cpu ?? 0) > free) return undefined;
  return {
    kind: 'grant',
    decision: { key: request.key, nodeId: 'n1', granted: request.desired, leaseMs: 60_000 },
  };
};

function ask(cpu: number) {
  seq++;
  return requestAdmission(
    db,
    { key: `f${seq}`, workflowId: `wf${seq}`, stageId: 's', priority: 5, desired: { cpu }, leaseMs: 60_000 },
    { staleAfterMs: 60_000, decide: fitsOnN1 },
  );
}

async function releaseAll(keys: string[]): Promise<void> {
  for (const key of keys) await releaseReservation(db, key);
}

test('twenty simultaneous whole-node requests: one is granted by the fast path, the rest wait, nothing overcommitted', async () => {
  const states = await Promise.all(Array.from({ length: 20 }, () => ask(4)));
  const granted = states.filter((s) => s.reservation.state === 'granted');
  expect(granted).toHaveLength(1);
  expect(granted[0]?.fastPath).toBe(true);
  for (const s of states.filter((x) => x.reservation.state === 'pending')) {
    expect(s.fastPath).toBe(false);
    expect(typeof s.fitsAlone).toBe('boolean');
  }
  expect(await checkInvariant(db)).toEqual([]);
  await releaseAll(states.map((s) => s.reservation.key));
});

test('a request made while another waits is told whether it fits alone, and is not granted ahead of it', async () => {
  const blocker = await ask(3);
  expect(blocker).toMatchObject({ fastPath: true, reservation: { state: 'granted' } });
  const waiting = await ask(2);
  expect(waiting).toMatchObject({ fastPath: false, fitsAlone: false, reservation: { state: 'pending' } });
  const small = await ask(1);
  // It would fit, but someone waits: the cycle decides between them, not the fast path.
  expect(small).toMatchObject({ fastPath: false, fitsAlone: true, reservation: { state: 'pending' } });
  // Asked again (the waiting activity after the fast path): the same request, as it is.
  const again = await requestAdmission(
    db,
    {
      key: small.reservation.key,
      workflowId: 'x',
      stageId: 's',
      priority: 5,
      desired: { cpu: 1 },
      leaseMs: 60_000,
    },
    { staleAfterMs: 60_000, decide: fitsOnN1 },
  );
  expect(again).toMatchObject({ created: false, fitsAlone: true, reservation: { state: 'pending' } });
  expect((await getReservation(db, small.reservation.key)).state).toBe('pending');
  await releaseAll([blocker, waiting, small].map((s) => s.reservation.key));
});

test('simultaneous one-cpu requests on an empty node never hold more than it has', async () => {
  const states = await Promise.all(Array.from({ length: 12 }, () => ask(1)));
  const granted = states.filter((s) => s.reservation.state === 'granted');
  expect(granted.length).toBeGreaterThanOrEqual(1);
  expect(granted.length).toBeLessThanOrEqual(4);
  expect(await checkInvariant(db)).toEqual([]);
  await releaseAll(states.map((s) => s.reservation.key));
});
