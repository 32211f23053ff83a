import type pg from 'pg';
import type { Database } from './db';
import { translateDbError } from './errors';

/** The outcome of {@link tryCycleLock}: what `fn` returned, or that another cycle held the lock. */
export type CycleLockResult<T> = { ran: true; value: T } | { ran: false };

const lockKey = (db: Database): string => `quartermaster-cycle:${db.schema}`;

/**
 * Holds the ledger's cycle lock on one pooled connection while `fn` runs, once `take` got it: a PostgreSQL
 * session advisory lock keyed by the schema. A process that dies mid-cycle drops the connection and with it
 * the lock; a connection that could not unlock is destroyed for the same reason.
 */
async function holding<T>(
  db: Database,
  take: (client: pg.PoolClient, key: string) => Promise<boolean>,
  fn: () => Promise<T>,
): Promise<CycleLockResult<T>> {
  const key = lockKey(db);
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw translateDbError(err, 'take cycle lock');
  }
  let broken: Error | undefined;
  try {
    let taken: boolean;
    try {
      taken = await take(client, key);
    } catch (err) {
      broken = err as Error;
      throw translateDbError(err, 'take cycle lock');
    }
    if (!taken) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]).catch((err: unknown) => {
        broken = err as Error;
      });
    }
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `fn` holding the ledger's cycle lock, so at most one scheduling cycle (the scheduler's, or one a release
 * runs inline) decides at a time across every worker process; queues for the lock while another cycle holds
 * it.
 * @throws DatabaseUnavailableError when the lock cannot be taken; whatever `fn` throws (the lock is released).
 */
export async function withCycleLock<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  const r = await holding(
    db,
    async (c, key) => {
      await c.query(`SELECT pg_advisory_lock(hashtext($1))`, [key]);
      return true;
    },
    fn,
  );
  if (!r.ran) throw new Error('unreachable: a waiting lock is always taken');
  return r.value;
}

/**
 * Runs `fn` holding the ledger's cycle lock when no other cycle holds it; gives up at once (`{ ran: false }`)
 * when one does.
 * @throws DatabaseUnavailableError when the lock cannot be asked for; whatever `fn` throws (the lock is released).
 */
export async function tryCycleLock<T>(db: Database, fn: () => Promise<T>): Promise<CycleLockResult<T>> {
  return holding(
    db,
    async (c, key) => {
      const { rows } = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, [
        key,
      ]);
      return rows[0]?.ok === true;
    },
    fn,
  );
}
