import { commitDecisions, commitDecisionsIn, type CommitResult } from '../../../src/ledger/commit';
import type { Database } from '../../../src/ledger/db';
import { registerNode } from '../../../src/ledger/nodes';
import { setPoolCapacity } from '../../../src/ledger/pools';
import { getReservation, requestReservation } from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase } from '../../support/env';
import { expectSoundThenEmpty } from '../../support/ledger-reset';

// A commit reads what is held in the same round trip that takes its locks (commit.ts): each statement of that
// round trip runs on a fresh snapshot, so a commit that waited for a lock counts the grant its holder
// committed meanwhile. Read on the lock statement's own snapshot (taken before the wait), it would not, and
// two commits racing for the last unit would both take it.
let db: Database;
let seq = 0;
const LEASE = 60_000;

beforeAll(async () => {
  db = await openTestDatabase('qm_commit_lock');
  await registerNode(db, { id: 'c1', capacity: { cpu: 1 } });
  await registerNode(db, { id: 'c2', capacity: { cpu: 1 } });
  await setPoolCapacity(db, 'licence', 1, new Date());
});
afterAll(() => dropSchema(db));
afterEach(() => expectSoundThenEmpty(db));

async function ask(desired: Record<string, number>): Promise<string> {
  seq++;
  const key = `l${seq}`;
  await requestReservation(db, {
    key,
    workflowId: `wf${seq}`,
    stageId: 's',
    priority: 5,
    desired,
    leaseMs: LEASE,
  });
  return key;
}

/** Until another backend of this database waits for a lock (the commit under test is queued). */
async function someoneWaitsForALock(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no commit ever waited for the lock');
}

/** One side of a race: the node a request of `granted` is granted on. */
interface Side {
  nodeId: string;
  granted: Record<string, number>;
}

/**
 * Asks for `first` and `second` (and a third request to note as waiting), grants `first` in a transaction held
 * open, starts committing `second` with a wait note on the third, and lets the first commit only once the second
 * waits for its lock.
 */
async function race(firstSide: Side, secondSide: Side) {
  const [first, second, noted] = [
    await ask(firstSide.granted),
    await ask(secondSide.granted),
    await ask({ cpu: 1 }),
  ];
  const holder = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    const held = await commitDecisionsIn(
      holder,
      db.schema,
      [{ key: first, ...firstSide, leaseMs: LEASE }],
      undefined,
    );
    expect(held.granted.map((g) => g.key)).toEqual([first]);
    const racing = commitDecisions(db, [{ key: second, ...secondSide, leaseMs: LEASE }], undefined, {
      waiting: [{ key: noted, score: 7, reason: 'behind the race' }],
    });
    await someoneWaitsForALock();
    await holder.query('COMMIT');
    return { result: await racing, second, noted };
  } finally {
    holder.release();
  }
}

/** The racing commit granted nothing and refused `key` for capacity, naming `detail`. */
function expectRefusedForCapacity(result: CommitResult, key: string, detail: string): void {
  expect(result.granted).toEqual([]);
  expect(result.rejected).toEqual([
    expect.objectContaining({
      key,
      reason: 'insufficient-capacity',
      detail: expect.stringContaining(detail),
    }),
  ]);
}

test('a commit that waited for a node counts the grant committed on it meanwhile', async () => {
  const cpu = { nodeId: 'c1', granted: { cpu: 1 } };
  const { result, second, noted } = await race(cpu, cpu);
  expectRefusedForCapacity(result, second, 'free 0');
  expect((await getReservation(db, second)).state).toBe('pending');
  // The wait note went in with it (written before the locks, in the same transaction).
  expect(await getReservation(db, noted)).toMatchObject({
    state: 'pending',
    reason: 'behind the race',
    lastScore: 7,
  });
});

/** Two one-licence grants on different nodes, the second committed while the first holds the pool. */
const licenceRace = () =>
  race({ nodeId: 'c1', granted: { cpu: 1, licence: 1 } }, { nodeId: 'c2', granted: { cpu: 1, licence: 1 } });

test('a commit that waited for a pool counts the grant committed from it meanwhile, on another node', async () => {
  const { result, second } = await licenceRace();
  expectRefusedForCapacity(result, second, 'licence');
});

test('a commit with room left after the one it waited for is granted', async () => {
  await setPoolCapacity(db, 'licence', 2, new Date());
  const { result, second } = await licenceRace();
  expect(result.granted.map((g) => g.key)).toEqual([second]);
});
