import type { CapacityCeiling } from '../capacity/ever-fits';
import type { Database } from './db';
import { translateDbError } from './errors';

/**
 * The largest capacities in the ledger, for `unsatisfiableResource`: per host resource the largest capacity
 * of any registered node (stale ones included: a node that stopped heartbeating may come back), each pool's
 * capacity, and how many nodes are registered. Two small aggregate reads; no lock.
 * @throws DatabaseUnavailableError (and the ledger's other translated errors) when the query fails.
 */
export async function capacityCeiling(db: Database): Promise<CapacityCeiling> {
  try {
    const [nodes, largest, pools] = await Promise.all([
      db.pool.query<{ n: string }>('SELECT count(*) AS n FROM qm_nodes'),
      db.pool.query<{ name: string; largest: number }>(
        `SELECT c.key AS name, max((c.value #>> '{}')::float8) AS largest
           FROM qm_nodes n, jsonb_each(n.capacity) c
          WHERE jsonb_typeof(c.value) = 'number'
          GROUP BY c.key`,
      ),
      db.pool.query<{ name: string; capacity: number }>('SELECT name, capacity FROM qm_pools'),
    ]);
    return {
      nodeCount: Number(nodes.rows[0]?.n ?? 0),
      largestNode: Object.fromEntries(largest.rows.map((r) => [r.name, Number(r.largest)])),
      pools: Object.fromEntries(pools.rows.map((r) => [r.name, Number(r.capacity)])),
    };
  } catch (err) {
    throw translateDbError(err, 'capacityCeiling');
  }
}
