import type { CapacityCeiling } from '../capacity/ever-fits';
import type { Database } from './db';
import { translateDbError } from './errors';

/**
 * The largest capacities in the ledger, for `unsatisfiableResource`: per host resource the largest capacity
 * of any registered node (stale ones included: a node that stopped heartbeating may come back), each pool's
 * capacity, and how many nodes are registered. One statement (every request pays it: it was three round
 * trips); no lock.
 * @throws DatabaseUnavailableError (and the ledger's other translated errors) when the query fails.
 */
export async function capacityCeiling(db: Database): Promise<CapacityCeiling> {
  try {
    const { rows } = await db.pool.query<{
      node_count: string;
      largest: Record<string, number> | null;
      pools: Record<string, number> | null;
    }>(
      `SELECT (SELECT count(*) FROM qm_nodes) AS node_count,
              (SELECT jsonb_object_agg(l.name, l.largest) FROM (
                 SELECT c.key AS name, max((c.value #>> '{}')::float8) AS largest
                   FROM qm_nodes n, jsonb_each(n.capacity) c
                  WHERE jsonb_typeof(c.value) = 'number'
                  GROUP BY c.key) l) AS largest,
              (SELECT jsonb_object_agg(name, capacity) FROM qm_pools) AS pools`,
    );
    const row = rows[0];
    const numbers = (v: Record<string, number> | null | undefined): Record<string, number> =>
      Object.fromEntries(Object.entries(v ?? {}).map(([k, x]) => [k, Number(x)]));
    return {
      nodeCount: Number(row?.node_count ?? 0),
      largestNode: numbers(row?.largest),
      pools: numbers(row?.pools),
    };
  } catch (err) {
    throw translateDbError(err, 'capacityCeiling');
  }
}
