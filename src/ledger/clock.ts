import type pg from 'pg';

/**
 * The database's clock (`now()`: the current transaction's start on a client inside one). Every lease,
 * expiry, heartbeat and staleness computation uses it, never a worker's clock, so a worker whose clock is
 * skewed changes nothing.
 * @throws the driver's error.
 */
export async function databaseNow(client: pg.PoolClient): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('SELECT now() AS now');
  return (rows[0] as { now: Date }).now;
}
