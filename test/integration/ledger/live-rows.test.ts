import type pg from 'pg';
import { runLedgerCycle } from '../../../src/admission/ledger-cycle';
import type { Database } from '../../../src/ledger/db';
import { inTransaction } from '../../../src/ledger/db';
import { pruneExecutions } from '../../../src/ledger/executions';
import { LiveRows } from '../../../src/ledger/live-rows';
import { registerNode } from '../../../src/ledger/nodes';
import {
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
} from '../../../src/ledger/reservations';
import { snapshotIn, type LedgerSnapshot } from '../../../src/ledger/snapshot';
import type { ReservationRecord } from '../../../src/ledger/types';
import { LEARNED_MIN_SAMPLES } from '../../../src/execution/learned';
import { dropSchema, openTestDatabase } from '../../support/env';
import { INLINE_CYCLE } from '../../support/ledger-cycle-options';
import { expectSoundThenEmpty } from '../../support/ledger-reset';

// A cycle's copy of the live reservations, read incrementally (rows written since its last read), must be what a
// full read returns in the same transaction, whatever happened in between: requests, grants, starts, renewals,
// releases, learned run times, rows deleted behind its back, and writers that commit out of order.
let db: Database;
let seq = 0;

beforeAll(async () => {
  db = await openTestDatabase('qm_live');
  await registerNode(db, { id: 'l1', capacity: { cpu: 8 }, taskQueue: 'tq-l1' });
});
afterAll(async () => {
  await dropSchema(db);
});
afterEach(async () => {
  await expectSoundThenEmpty(db);
  await db.pool.query('DELETE FROM qm_run_estimates');
});

async function request(
  cpu: number,
  extra: { expectedSeconds?: number; stageId?: string } = {},
): Promise<string> {
  seq++;
  const key = `lr${seq}`;
  await requestReservation(db, {
    key,
    workflowId: `wf-live-${seq}`,
    stageId: extra.stageId ?? 's',
    priority: 1 + (seq % 10),
    desired: { cpu },
    minimum: { cpu },
    definitionName: 'd',
    handler: 'h',
    ...(extra.expectedSeconds === undefined ? {} : { expectedSeconds: extra.expectedSeconds }),
  });
  return key;
}

const byKey = (rs: ReservationRecord[]): ReservationRecord[] =>
  [...rs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** A full read and a read through `live`, in one REPEATABLE READ transaction. */
async function bothReads(live: LiveRows): Promise<{ full: LedgerSnapshot; copy: LedgerSnapshot }> {
  return inTransaction(
    db,
    'both reads',
    async (client) => {
      const now = new Date();
      return { full: await snapshotIn(client, now), copy: await snapshotIn(client, now, { liveRows: live }) };
    },
    'REPEATABLE READ READ ONLY',
  );
}

async function expectSame(live: LiveRows): Promise<LedgerSnapshot> {
  const { full, copy } = await bothReads(live);
  expect(byKey(copy.pending)).toEqual(byKey(full.pending));
  expect(copy.active).toEqual(full.active);
  expect(copy.pending.map((r) => r.key).sort()).toEqual(full.pending.map((r) => r.key).sort());
  return copy;
}

it('reads what a full read reads, through requests, grants, starts, renewals, releases and learned times', async () => {
  const live = new LiveRows();
  expect((await expectSame(live)).liveRead).toEqual({ full: true, rowsRead: 0 });
  for (let i = 0; i < 12; i++) await request(1 + (i % 3), i % 4 === 0 ? { expectedSeconds: 5 } : {});
  let copy = await expectSame(live);
  expect(copy.liveRead).toEqual({ full: false, rowsRead: 12 });
  expect(copy.pending).toHaveLength(12);

  // A cycle grants what fits on 8 cpus; the copy sees the grants and nothing else.
  const cycle = await runLedgerCycle(db, INLINE_CYCLE);
  const granted = cycle.committed.granted.map((g) => g.key);
  expect(granted.length).toBeGreaterThan(0);
  copy = await expectSame(live);
  expect(copy.liveRead?.full).toBe(false);
  expect(copy.liveRead?.rowsRead).toBe(granted.length);

  const [first, second] = granted as [string, string];
  await markRunning(db, first, 60_000);
  await renewLease(db, second, 60_000);
  copy = await expectSame(live);
  expect(copy.liveRead).toEqual({ full: false, rowsRead: 2 });
  expect(copy.active.find((r) => r.key === first)?.state).toBe('running');

  // A release leaves the live set: read once (ended), gone from the copy.
  await releaseReservation(db, second);
  copy = await expectSame(live);
  expect(copy.liveRead).toEqual({ full: false, rowsRead: 1 });
  expect(copy.active.some((r) => r.key === second)).toBe(false);

  // A learned run time appears, changes, and attaches only where the full read's join would.
  await db.pool.query(
    `INSERT INTO qm_run_estimates (definition_name, stage_id, handler, seconds, samples, updated_at)
     VALUES ('d', 's', 'h', 7.5, $1, now())`,
    [LEARNED_MIN_SAMPLES],
  );
  copy = await expectSame(live);
  expect(copy.liveRead).toEqual({ full: false, rowsRead: 0 });
  const learned = copy.pending.filter((r) => r.learned !== undefined);
  expect(learned.length).toBeGreaterThan(0);
  expect(learned.every((r) => r.expectedSeconds === null && r.learned?.seconds === 7.5)).toBe(true);
  await db.pool.query(`UPDATE qm_run_estimates SET seconds = 9, samples = samples + 1`);
  copy = await expectSame(live);
  expect(copy.pending.filter((r) => r.learned !== undefined).every((r) => r.learned?.seconds === 9)).toBe(
    true,
  );

  // Nothing changed: nothing read.
  expect((await expectSame(live)).liveRead).toEqual({ full: false, rowsRead: 0 });
});

it('sees a writer that commits after a later writer did (no "newest seen" watermark)', async () => {
  const live = new LiveRows();
  const [a, b] = [await request(1), await request(1)];
  await expectSame(live);
  const slow = await db.pool.connect();
  const fast = await db.pool.connect();
  try {
    await slow.query('BEGIN');
    await slow.query(`UPDATE qm_reservations SET priority = 9 WHERE key = $1`, [a]); // the older transaction id
    await fast.query('BEGIN');
    await fast.query(`UPDATE qm_reservations SET priority = 8 WHERE key = $1`, [b]);
    await fast.query('COMMIT');
    let copy = await expectSame(live);
    expect(copy.pending.find((r) => r.key === b)?.priority).toBe(8);
    expect(copy.pending.find((r) => r.key === a)?.priority).not.toBe(9);
    await slow.query('COMMIT');
    copy = await expectSame(live);
    expect(copy.liveRead).toEqual({ full: false, rowsRead: 1 });
    expect(copy.pending.find((r) => r.key === a)?.priority).toBe(9);
  } finally {
    slow.release();
    fast.release();
  }
});

it("is stamped with its own transaction's snapshot: a commit during the read transaction is read next time", async () => {
  const live = new LiveRows();
  const a = await request(1);
  await expectSame(live);
  const reader = await db.pool.connect();
  try {
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query('SELECT 1 FROM qm_nodes'); // the transaction's snapshot is taken here
    await db.pool.query(`UPDATE qm_reservations SET priority = 10 WHERE key = $1`, [a]);
    const before = await snapshotIn(reader, new Date(), { liveRows: live });
    expect(before.pending.find((r) => r.key === a)?.priority).not.toBe(10);
    await reader.query('COMMIT');
  } finally {
    reader.release();
  }
  const copy = await expectSame(live);
  expect(copy.pending.find((r) => r.key === a)?.priority).toBe(10);
});

it('reads everything again when rows were deleted behind its back, and only then', async () => {
  const live = new LiveRows();
  const [a] = [await request(1), await request(1)];
  await db.pool.query(
    `INSERT INTO qm_run_estimates (definition_name, stage_id, handler, seconds, samples, updated_at)
     VALUES ('d', 's', 'h', 3, $1, now())`,
    [LEARNED_MIN_SAMPLES],
  );
  expect((await expectSame(live)).pending.every((r) => r.learned?.seconds === 3)).toBe(true);
  // A retention run that finds nothing to delete changes nothing.
  await pruneExecutions(db, { retentionDays: 30 });
  expect((await expectSame(live)).liveRead).toEqual({ full: false, rowsRead: 0 });
  await db.pool.query(`DELETE FROM qm_reservations WHERE key = $1`, [a]);
  let copy = await expectSame(live);
  expect(copy.liveRead).toEqual({ full: true, rowsRead: 1 });
  await db.pool.query('DELETE FROM qm_run_estimates');
  copy = await expectSame(live);
  expect(copy.liveRead?.full).toBe(true);
  expect(copy.pending.some((r) => r.learned !== undefined)).toBe(false);
  await db.pool.query('TRUNCATE qm_run_estimates');
  expect((await expectSame(live)).liveRead?.full).toBe(true);
  expect((await expectSame(live)).liveRead).toEqual({ full: false, rowsRead: 0 });
});

it('refuses a READ COMMITTED transaction, whose statements would not share one snapshot', async () => {
  const live = new LiveRows();
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await expect(live.read(client)).rejects.toThrow(
      'needs a REPEATABLE READ transaction, got read committed',
    );
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});

it('starts over in full after a failed read', async () => {
  const live = new LiveRows();
  await request(1);
  await expectSame(live);
  const client: pg.PoolClient = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT 1/0').catch(() => undefined); // the transaction is aborted: every read fails
    await expect(live.read(client)).rejects.toThrow(/aborted/);
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  expect((await expectSame(live)).liveRead?.full).toBe(true);
});

it("a scheduler's cycle reads only what changed since its last cycle", async () => {
  // Behind a holder of the whole node, 300 waiting requests: the first cycle reads them all, the next ones only
  // the few rows written in between.
  const holder = await request(8);
  const first = await runLedgerCycle(db, INLINE_CYCLE);
  expect(first.committed.granted.map((g) => g.key)).toEqual([holder]);
  for (let i = 0; i < 300; i++) await request(1);
  const second = await runLedgerCycle(db, INLINE_CYCLE);
  expect(second.snapshot.pending).toHaveLength(300);
  expect(second.snapshot.liveRead?.rowsRead).toBeGreaterThanOrEqual(300);
  await request(1);
  await request(1);
  const third = await runLedgerCycle(db, INLINE_CYCLE);
  expect(third.snapshot.liveRead).toEqual({ full: false, rowsRead: 2 });
  expect(third.snapshot.pending).toHaveLength(302);
  expect(third.committed.granted).toEqual([]);
});

it("a cycle's snapshot reads the held and the changed rows through indexes, not 20,000 ended ones", async () => {
  // A ledger keeps every ended reservation: a read that scanned the table would cost its whole history per
  // cycle (and the held sums, per request). Counted inside the reading transaction (pg_stat_xact_user_tables),
  // before and after the snapshot.
  await db.pool.query(
    `INSERT INTO qm_reservations (key, workflow_id, stage_id, priority, desired, minimum, state, requested_at,
                                 ended_at, updated_at)
     SELECT 'old-' || i, 'wf-old-' || i, 's', 5, '{"cpu": 1}', '{"cpu": 1}', 'released', now(), now(), now()
       FROM generate_series(1, 20000) i`,
  );
  await db.pool.query('ANALYZE qm_reservations');
  const live = new LiveRows();
  await request(1);
  await expectSame(live);
  await request(1);
  await request(2);
  const scans = await inTransaction(
    db,
    'scans',
    async (client) => {
      // The view also holds this connection's counts not yet flushed from earlier transactions: a difference.
      const count = async (): Promise<{ seq: number; idx: number }> => {
        const { rows } = await client.query<{ seq_scan: string; idx_scan: string }>(
          `SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables
            WHERE relname = 'qm_reservations' AND schemaname = current_schema()`,
        );
        return { seq: Number(rows[0]?.seq_scan ?? 0), idx: Number(rows[0]?.idx_scan ?? 0) };
      };
      const before = await count();
      const snap = await snapshotIn(client, new Date(), { liveRows: live });
      const after = await count();
      return { read: snap.liveRead, seq: after.seq - before.seq, byIndex: after.idx > before.idx };
    },
    'REPEATABLE READ READ ONLY',
  );
  expect(scans).toEqual({ read: { full: false, rowsRead: 2 }, seq: 0, byIndex: true });
  await db.pool.query(`DELETE FROM qm_reservations WHERE key LIKE 'old-%'`);
});
