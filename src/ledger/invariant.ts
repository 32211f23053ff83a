import type { Database } from './db';
import { translateDbError } from './errors';
import { HOST_RESOURCES } from './types';

/** One place where more is granted than exists. */
export interface InvariantViolation {
  /** `node` for a host resource on a node; `pool` for a custom pool. */
  kind: 'node' | 'pool';
  /** The node id (`kind: 'node'`), or null. */
  nodeId: string | null;
  /** The resource (pool name for pools). */
  resource: string;
  /** Its capacity (0 when the node or pool does not declare it). */
  capacity: number;
  /** Σ granted by active reservations. */
  granted: number;
}

/**
 * The invariant as one query: per node and host resource, and per custom pool, Σ granted by granted and
 * running reservations ≤ capacity (with 1e-9 slack for float sums). A resource granted but not declared
 * counts as capacity 0.
 */
export const INVARIANT_SQL = `
WITH held AS (
  SELECT r.node_id, e.key AS resource, e.value::float8 AS amount
    FROM qm_reservations r
    CROSS JOIN LATERAL jsonb_each_text(r.granted) AS e
   WHERE r.state IN ('granted', 'running')
),
node_sums AS (
  SELECT node_id, resource, sum(amount) AS granted FROM held WHERE resource = ANY($1) GROUP BY node_id, resource
),
pool_sums AS (
  SELECT resource, sum(amount) AS granted FROM held WHERE NOT (resource = ANY($1)) GROUP BY resource
)
SELECT 'node' AS kind, s.node_id, s.resource, coalesce((n.capacity ->> s.resource)::float8, 0) AS capacity, s.granted
  FROM node_sums s LEFT JOIN qm_nodes n ON n.id = s.node_id
 WHERE s.granted > coalesce((n.capacity ->> s.resource)::float8, 0) + 1e-9
UNION ALL
SELECT 'pool', NULL, s.resource, coalesce(p.capacity, 0), s.granted
  FROM pool_sums s LEFT JOIN qm_pools p ON p.name = s.resource
 WHERE s.granted > coalesce(p.capacity, 0) + 1e-9
ORDER BY 1, 2, 3`;

/**
 * Checks `Σ granted ≤ capacity` over the whole ledger in one query.
 * @returns the violations; empty when the books are sound.
 * @throws DatabaseUnavailableError.
 */
export async function checkInvariant(db: Database): Promise<InvariantViolation[]> {
  try {
    const { rows } = await db.pool.query<{
      kind: 'node' | 'pool';
      node_id: string | null;
      resource: string;
      capacity: number;
      granted: number;
    }>(INVARIANT_SQL, [[...HOST_RESOURCES]]);
    return rows.map((r) => ({
      kind: r.kind,
      nodeId: r.node_id,
      resource: r.resource,
      capacity: r.capacity,
      granted: r.granted,
    }));
  } catch (err) {
    throw translateDbError(err, 'check invariant');
  }
}
