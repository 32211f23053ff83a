import { commitDecisions } from '../../../src/ledger/commit';
import type { Database } from '../../../src/ledger/db';
import { getReservation, requestReservation } from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase } from '../../support/env';

let db: Database;
const MANY = 2000;

beforeAll(async () => {
  db = await openTestDatabase('qm_wait_notes');
  const asks: Array<Promise<unknown>> = [];
  for (let i = 0; i < MANY; i++) {
    asks.push(
      requestReservation(db, {
        key: `w${i}`,
        workflowId: `wf${i}`,
        stageId: 's',
        priority: 5,
        desired: { cpu: 1 },
        leaseMs: 600_000,
      }),
    );
    if (asks.length >= 16) await Promise.all(asks.splice(0));
  }
  await Promise.all(asks);
});
afterAll(() => dropSchema(db));

const note = (key: string, reason: string) => ({ key, score: 0.5, reason });

test('a waiter is told when its reason changes, and not when it stays the same', async () => {
  const sub = await db.decisions.subscribe('w0');
  try {
    await commitDecisions(db, [], undefined, { waiting: [note('w0', 'no node fits cpu')] });
    expect(await sub.next(5000)).toBe('notified');
    await commitDecisions(db, [], undefined, { waiting: [note('w0', 'no node fits cpu')] });
    expect(await sub.next(500)).toBe('timeout');
    await commitDecisions(db, [], undefined, { waiting: [note('w0', 'first in line for n1')] });
    expect(await sub.next(5000)).toBe('notified');
    expect((await getReservation(db, 'w0')).reason).toBe('first in line for n1');
  } finally {
    sub.close();
  }
});

test(`${MANY} wait notes in one commit: every row written, only the changed ones told`, async () => {
  const watched = await db.decisions.subscribe('w7');
  const quiet = await db.decisions.subscribe('w8');
  try {
    const reasons = (round: number) =>
      Array.from({ length: MANY }, (_, i) => note(`w${i}`, i === 7 ? `round ${round}` : 'waits behind w0'));
    await commitDecisions(db, [], undefined, { waiting: reasons(1) });
    expect(await watched.next(5000)).toBe('notified');
    expect(await quiet.next(5000)).toBe('notified'); // its first reason
    await commitDecisions(db, [], undefined, { waiting: reasons(2) });
    expect(await watched.next(5000)).toBe('notified');
    expect(await quiet.next(500)).toBe('timeout');
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${db.schema}.qm_reservations WHERE reason = 'waits behind w0'`,
    );
    expect(Number(rows[0]?.n)).toBe(MANY - 1);
  } finally {
    watched.close();
    quiet.close();
  }
});
