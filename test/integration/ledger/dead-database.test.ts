import { openDatabase, type Database } from '../../../src/ledger/db';
import { freePort } from '../../../src/services/free-port';
import { commitDecisions } from '../../../src/ledger/commit';
import { registerNode } from '../../../src/ledger/nodes';
import { getReservation, releaseReservation, requestReservation } from '../../../src/ledger/reservations';
import { snapshot } from '../../../src/ledger/snapshot';
import { checkInvariant } from '../../../src/ledger/invariant';
import { dropSchema, openTestDatabase } from '../../support/env';
import pg from 'pg';
import { LiveRows } from '../../../src/ledger/live-rows';
import { DecisionListener } from '../../../src/ledger/listener';
import { errorOf } from '../../support/errors';

const T0 = new Date('2026-01-01T00:00:00Z');

describe('a dead database', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase('qm_dead');
    await registerNode(db, { id: 'n1', capacity: { cpu: 4 } }, T0);
  });
  afterAll(async () => {
    await dropSchema(db);
  });

  it('nothing listening: every operation fails with the retryable DatabaseUnavailableError', async () => {
    const port = await freePort();
    const pool = new pg.Pool({
      connectionString: `postgres://postgres:x@127.0.0.1:${port}/postgres`,
      connectionTimeoutMillis: 2000,
    });
    const dead: Database = {
      pool,
      schema: 'nowhere',
      decisions: new DecisionListener(pool, 'nowhere'),
      liveRows: new LiveRows(),
      close: async () => undefined,
    };
    dead.pool.on('error', () => undefined);
    const ops: Array<Promise<unknown>> = [
      requestReservation(
        dead,
        { key: 'k', workflowId: 'w', stageId: 's', priority: 1, desired: { cpu: 1 } },
        T0,
      ),
      commitDecisions(dead, [{ key: 'k', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], T0),
      releaseReservation(dead, 'k', T0),
      snapshot(dead, T0),
      checkInvariant(dead),
    ];
    for (const op of ops) {
      expect(await errorOf(op)).toMatchObject({ name: 'DatabaseUnavailableError', retryable: true });
    }
    expect(
      await errorOf(openDatabase({ connectionString: `postgres://postgres:x@127.0.0.1:${port}/postgres` })),
    ).toMatchObject({
      name: 'DatabaseUnavailableError',
    });
    await dead.pool.end();
  });

  it('backend killed mid-commit: DatabaseUnavailableError and nothing written', async () => {
    await requestReservation(
      db,
      { key: 'mid', workflowId: 'w', stageId: 's', priority: 1, desired: { cpu: 1 } },
      T0,
    );
    // Hold the node row lock from another session so the commit blocks inside its transaction,
    // then terminate the commit's backend while it waits.
    // Two idle connections, so the commit below does not wait for a new connection to be made.
    await Promise.all([db.pool.query('SELECT pg_sleep(0.05)'), db.pool.query('SELECT pg_sleep(0.05)')]);
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM qm_nodes WHERE id = 'n1' FOR UPDATE`);
      const commit = errorOf(
        commitDecisions(db, [{ key: 'mid', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }], T0),
      );
      let victim: number | undefined;
      for (let i = 0; i < 500 && victim === undefined; i++) {
        const { rows } = await blocker.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
        );
        victim = rows[0]?.pid;
        if (victim === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(victim).toBeDefined();
      await blocker.query('SELECT pg_terminate_backend($1)', [victim]);
      expect(await commit).toMatchObject({
        name: 'DatabaseUnavailableError',
        retryable: true,
        operation: 'commit decisions',
      });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await getReservation(db, 'mid')).toMatchObject({ state: 'pending', granted: null, nodeId: null });
    const retried = await commitDecisions(
      db,
      [{ key: 'mid', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 1000 }],
      T0,
    );
    expect(retried.granted).toHaveLength(1);
  });
});
