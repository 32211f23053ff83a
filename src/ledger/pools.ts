import type { Database } from './db';
import {
  CapacityBelowGrantedError,
  InvalidLedgerArgumentError,
  translateDbError,
  UnknownPoolError,
} from './errors';
import { withRetries } from './transaction';
import { isHostResource } from './types';
import { checkId, checkQuantity, EPSILON } from './vectors';

/** A custom pool: a cluster-wide resource with a declared capacity (`db-connections`, `license:matlab`). */
export interface PoolRecord {
  /** Pool (resource) name. */
  name: string;
  /** Declared capacity (units). */
  capacity: number;
  /** Σ granted by active reservations now. */
  granted: number;
  /** `capacity − granted`. */
  free: number;
  /** When the capacity was last set. */
  updatedAt: Date;
}

/**
 * Declares custom pool `name` with `capacity` units, or changes its capacity. Shrinking below what is
 * granted now is refused, so the invariant `Σ granted ≤ capacity` holds at every commit. The pool row is
 * locked while the granted sum is read, which orders this against concurrent grants in both strategies.
 * @throws InvalidLedgerArgumentError for an empty name or a host resource name (`cpu`, …);
 *   InvalidQuantityError for a negative or non-finite capacity; CapacityBelowGrantedError; DatabaseUnavailableError.
 */
export async function setPoolCapacity(
  db: Database,
  name: string,
  capacity: number,
  now: Date,
): Promise<PoolRecord> {
  checkId('pool.name', name);
  if (isHostResource(name)) {
    throw new InvalidLedgerArgumentError(
      'pool.name',
      name,
      'a custom resource name (host resources live on nodes)',
    );
  }
  checkQuantity(`pool.${name}`, capacity);
  return withRetries(db, 'set pool capacity', async (client) => {
    // Create-if-missing first so there is always a row to lock; a brand-new pool has nothing granted.
    await client.query(
      `INSERT INTO qm_pools (name, capacity, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
      [name, capacity, now],
    );
    await client.query('SELECT 1 FROM qm_pools WHERE name = $1 FOR UPDATE', [name]);
    const { rows } = await client.query<{ granted: number }>(
      `SELECT coalesce(sum((r.granted ->> $1)::float8), 0) AS granted
         FROM qm_reservations r
        WHERE r.state IN ('granted', 'running') AND r.behind IS NULL AND r.granted ? $1`,
      [name],
    );
    const granted = rows[0]?.granted ?? 0;
    if (capacity + EPSILON < granted) throw new CapacityBelowGrantedError(name, capacity, granted);
    await client.query('UPDATE qm_pools SET capacity = $2, updated_at = $3 WHERE name = $1', [
      name,
      capacity,
      now,
    ]);
    return { name, capacity, granted, free: capacity - granted, updatedAt: now };
  });
}

/**
 * Every custom pool with its capacity, Σ granted and free, by name.
 * @throws DatabaseUnavailableError.
 */
export async function listPools(db: Database): Promise<PoolRecord[]> {
  try {
    const { rows } = await db.pool.query<{
      name: string;
      capacity: number;
      granted: number;
      updated_at: Date;
    }>(
      `SELECT p.name, p.capacity, p.updated_at,
              coalesce((SELECT sum((r.granted ->> p.name)::float8)
                          FROM qm_reservations r
                         WHERE r.state IN ('granted', 'running') AND r.behind IS NULL AND r.granted ? p.name), 0) AS granted
         FROM qm_pools p
        ORDER BY p.name`,
    );
    return rows.map((r) => ({
      name: r.name,
      capacity: r.capacity,
      granted: r.granted,
      free: r.capacity - r.granted,
      updatedAt: r.updated_at,
    }));
  } catch (err) {
    throw translateDbError(err, 'list pools');
  }
}

/**
 * One pool.
 * @throws UnknownPoolError when it is not declared; DatabaseUnavailableError.
 */
export async function getPool(db: Database, name: string): Promise<PoolRecord> {
  const pool = (await listPools(db)).find((p) => p.name === name);
  if (pool === undefined) throw new UnknownPoolError(name);
  return pool;
}
