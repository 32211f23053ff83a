import type pg from 'pg';
import type { Database } from './db';
import { translateDbError } from './errors';

/**
 * The database's clock (`now()`: the current transaction's start on a client inside one). Every lease,
 * expiry, heartbeat and staleness computation uses it, never a worker's clock, so a worker whose clock is
 * skewed changes nothing.
 * @throws DatabaseUnavailableError (from a {@link Database}) or the driver's error (from a client).
 */
export async function databaseNow(client: pg.PoolClient): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('SELECT now() AS now');
  return (rows[0] as { now: Date }).now;
}

/**
 * {@link databaseNow} on a pooled connection.
 * @throws DatabaseUnavailableError.
 */
export async function ledgerNow(db: Database): Promise<Date> {
  try {
    const { rows } = await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
    return (rows[0] as { now: Date }).now;
  } catch (err) {
    throw translateDbError(err, 'read database clock');
  }
}
