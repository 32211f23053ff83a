import type { Database } from './db';
import { translateDbError } from './errors';

/** Pending requests of one priority (1–10). */
export interface PendingByPriority {
  readonly priority: number;
  readonly count: number;
  /** Age of the oldest pending request of this priority, seconds (on the database's clock). */
  readonly oldestSeconds: number;
}

/** One node's row as the metrics read it: capacity, what is held on it, and what its monitor published. */
export interface NodeMetricsRow {
  readonly id: string;
  /** Declared or detected capacity per resource. */
  readonly capacity: Readonly<Record<string, number>>;
  /** Σ granted by held (granted or running) reservations on the node, per resource (pools included). */
  readonly granted: Readonly<Record<string, number>>;
  /** Seconds since the node's last heartbeat (database clock). */
  readonly heartbeatAgeSeconds: number;
  /** The monitor's published usage (shape owned by `src/monitor`), `null` when it publishes none. */
  readonly usage: unknown;
  /** The monitor's published forecasts keyed by horizon (shape owned by `src/monitor`), or `null`. */
  readonly forecast: unknown;
}

/** A custom pool: capacity and Σ granted by held reservations. */
export interface PoolMetricsRow {
  readonly name: string;
  readonly capacity: number;
  readonly granted: number;
}

/** Everything the scrape-time gauges read, from one read-only snapshot of the ledger. */
export interface LedgerMetrics {
  readonly pendingByPriority: readonly PendingByPriority[];
  /** Reservation rows per state (`pending`, `granted`, `running`, `released`, `expired`, `cancelled`). */
  readonly reservationsByState: Readonly<Record<string, number>>;
  readonly nodes: readonly NodeMetricsRow[];
  readonly pools: readonly PoolMetricsRow[];
  /** Boosts not yet expired (by `expires_at`, on the database's clock), and the sum of their amounts. */
  readonly boosts: { readonly active: number; readonly amount: number };
  /** Held reservations with an unanswered shrink offer. */
  readonly shrinkOffersOpen: number;
}

/**
 * Reads the ledger for the metrics gauges, in one REPEATABLE READ READ ONLY transaction (one consistent
 * view; it takes no lock a grant waits on). Times are on the database's clock. Cost: five index-or-small-table
 * scans; meant for a scrape every few seconds, not for a hot path.
 * @throws DatabaseUnavailableError when the database cannot be reached.
 */
export async function readLedgerMetrics(db: Database): Promise<LedgerMetrics> {
  const client = await db.pool.connect().catch((err: unknown) => {
    throw translateDbError(err, 'read metrics');
  });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const pending = await client.query<{ priority: number; count: string; oldest: number }>(
      `SELECT priority, count(*) AS count,
              EXTRACT(EPOCH FROM now() - min(requested_at))::float8 AS oldest
         FROM qm_reservations WHERE state = 'pending' GROUP BY priority ORDER BY priority`,
    );
    const states = await client.query<{ state: string; count: string }>(
      `SELECT state, count(*) AS count FROM qm_reservations GROUP BY state`,
    );
    const nodes = await client.query<{
      id: string;
      capacity: Record<string, number>;
      age: number;
      usage: unknown;
      forecast: unknown;
      granted: Record<string, number> | null;
    }>(
      `SELECT n.id, n.capacity, EXTRACT(EPOCH FROM now() - n.last_heartbeat)::float8 AS age, n.usage, n.forecast,
              (SELECT jsonb_object_agg(g.k, g.total)
                 FROM (SELECT e.key AS k, sum(e.value::float8) AS total
                         FROM qm_reservations r, jsonb_each_text(r.granted) e
                        WHERE r.node_id = n.id AND r.state IN ('granted', 'running') AND r.behind IS NULL
                        GROUP BY e.key) g) AS granted
         FROM qm_nodes n ORDER BY n.id`,
    );
    const pools = await client.query<{ name: string; capacity: number; granted: number }>(
      `SELECT p.name, p.capacity,
              COALESCE((SELECT sum((r.granted ->> p.name)::float8) FROM qm_reservations r
                         WHERE r.state IN ('granted', 'running') AND r.behind IS NULL AND r.granted ? p.name), 0)::float8 AS granted
         FROM qm_pools p ORDER BY p.name`,
    );
    const boosts = await client.query<{ active: string; amount: number | null; offers: string }>(
      `SELECT count(*) AS active, sum(amount)::float8 AS amount,
              (SELECT count(*) FROM qm_reservations WHERE offer_to IS NOT NULL) AS offers
         FROM qm_boosts WHERE expired_at IS NULL AND expires_at > now()`,
    );
    await client.query('COMMIT');
    const b = boosts.rows[0];
    return {
      pendingByPriority: pending.rows.map((r) => ({
        priority: r.priority,
        count: Number(r.count),
        oldestSeconds: Math.max(0, r.oldest),
      })),
      reservationsByState: Object.fromEntries(states.rows.map((r) => [r.state, Number(r.count)])),
      nodes: nodes.rows.map((r) => ({
        id: r.id,
        capacity: r.capacity,
        granted: r.granted ?? {},
        heartbeatAgeSeconds: Math.max(0, r.age),
        usage: r.usage,
        forecast: r.forecast,
      })),
      pools: pools.rows.map((r) => ({ name: r.name, capacity: r.capacity, granted: r.granted })),
      boosts: { active: Number(b?.active ?? 0), amount: b?.amount ?? 0 },
      shrinkOffersOpen: Number(b?.offers ?? 0),
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw translateDbError(err, 'read metrics');
  } finally {
    client.release();
  }
}
