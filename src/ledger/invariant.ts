import type { Database } from './db';
import { translateDbError } from './errors';
import { HOST_RESOURCES } from './types';

/**
 * One place where the books are unsound: more granted than exists (`node`, `pool`), a held reservation
 * below its minimum (`reservation`: a shrink went too far), or a pending shrink offer outside
 * `[minimum, granted]` or on a reservation that holds nothing (`offer`), or a successor grant that is not
 * carved from a live predecessor on its node (`successor`: its predecessor ended without promoting it, sits on
 * another node, or holds less of a resource than the successor was granted).
 */
export interface InvariantViolation {
  /**
   * `node` / `pool`: over capacity; `reservation`: granted < minimum; `offer`: a malformed pending offer;
   * `successor`: a successor grant without a live predecessor that covers it.
   */
  kind: 'node' | 'pool' | 'reservation' | 'offer' | 'successor';
  /** The node id, or null (pools; offers on a reservation without a node). */
  nodeId: string | null;
  /** The resource (pool name for pools). */
  resource: string;
  /**
   * The bound broken: capacity (`node`/`pool`, 0 when undeclared), the minimum (`reservation`), or the
   * offered amount (`offer`), or the predecessor's grant of `resource` (`successor`).
   */
  capacity: number;
  /** Σ granted by active reservations (`node`/`pool`), or the reservation's grant of `resource`. */
  granted: number;
  /** The reservation (`reservation`, `offer`, `successor`); null for `node` and `pool`. */
  key: string | null;
}

/**
 * The invariant as one query: per node and host resource, and per custom pool, Σ granted by granted and
 * running reservations (successors behind another not counted: their capacity is their predecessor's) ≤ capacity (with 1e-9 slack for float sums; a resource granted but not declared
 * counts as capacity 0); every held reservation holds at least its minimum (a shrink never goes below it);
 * and every pending shrink offer sits on a held reservation within `[minimum, granted]`.
 */
export const INVARIANT_SQL = `
WITH held AS (
  SELECT r.node_id, e.key AS resource, e.value::float8 AS amount
    FROM qm_reservations r
    CROSS JOIN LATERAL jsonb_each_text(r.granted) AS e
   WHERE r.state IN ('granted', 'running') AND r.behind IS NULL
),
node_sums AS (
  SELECT node_id, resource, sum(amount) AS granted FROM held WHERE resource = ANY($1) GROUP BY node_id, resource
),
pool_sums AS (
  SELECT resource, sum(amount) AS granted FROM held WHERE NOT (resource = ANY($1)) GROUP BY resource
)
SELECT 'node' AS kind, s.node_id, s.resource, coalesce((n.capacity ->> s.resource)::float8, 0) AS capacity, s.granted,
       NULL::text AS key
  FROM node_sums s LEFT JOIN qm_nodes n ON n.id = s.node_id
 WHERE s.granted > coalesce((n.capacity ->> s.resource)::float8, 0) + 1e-9
UNION ALL
SELECT 'pool', NULL, s.resource, coalesce(p.capacity, 0), s.granted, NULL
  FROM pool_sums s LEFT JOIN qm_pools p ON p.name = s.resource
 WHERE s.granted > coalesce(p.capacity, 0) + 1e-9
UNION ALL
SELECT 'reservation', r.node_id, m.key, m.value::float8, coalesce((r.granted ->> m.key)::float8, 0), r.key
  FROM qm_reservations r
  CROSS JOIN LATERAL jsonb_each_text(r.minimum) AS m
 WHERE r.state IN ('granted', 'running')
   AND coalesce((r.granted ->> m.key)::float8, 0) < m.value::float8 - 1e-9
UNION ALL
SELECT 'offer', r.node_id, o.key, o.value::float8, coalesce((r.granted ->> o.key)::float8, 0), r.key
  FROM qm_reservations r
  CROSS JOIN LATERAL jsonb_each_text(r.offer_to) AS o
 WHERE r.offer_to IS NOT NULL
   AND (r.state NOT IN ('granted', 'running')
        OR o.value::float8 > coalesce((r.granted ->> o.key)::float8, 0) + 1e-9
        OR o.value::float8 < coalesce((r.minimum ->> o.key)::float8, 0) - 1e-9)
UNION ALL
SELECT 'successor', s.node_id, g.key, coalesce((p.granted ->> g.key)::float8, 0), g.value::float8, s.key
  FROM qm_reservations s
  CROSS JOIN LATERAL jsonb_each_text(s.granted) AS g
  LEFT JOIN qm_reservations p ON p.key = s.behind
 WHERE s.behind IS NOT NULL AND s.state IN ('granted', 'running')
   AND (p.key IS NULL OR p.state NOT IN ('granted', 'running')
        OR p.node_id IS DISTINCT FROM s.node_id
        OR g.value::float8 > coalesce((p.granted ->> g.key)::float8, 0) + 1e-9)
ORDER BY 1, 2, 3, 6`;

/**
 * Checks the ledger's invariant ({@link INVARIANT_SQL}) over the whole ledger in one query.
 * @returns the violations; empty when the books are sound.
 * @throws DatabaseUnavailableError.
 */
export async function checkInvariant(db: Database): Promise<InvariantViolation[]> {
  try {
    const { rows } = await db.pool.query<{
      kind: InvariantViolation['kind'];
      node_id: string | null;
      resource: string;
      capacity: number;
      granted: number;
      key: string | null;
    }>(INVARIANT_SQL, [[...HOST_RESOURCES]]);
    return rows.map((r) => ({
      kind: r.kind,
      nodeId: r.node_id,
      resource: r.resource,
      capacity: r.capacity,
      granted: r.granted,
      key: r.key,
    }));
  } catch (err) {
    throw translateDbError(err, 'check invariant');
  }
}
