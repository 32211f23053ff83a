import type pg from 'pg';
import { databaseNow } from './clock';
import type { Database } from './db';
import { inTransaction } from './db';
import { isStale } from './nodes';
import { RESERVATION_SELECT } from './reservations';
import {
  byKey,
  HELD_SQL,
  toNode,
  toReservation,
  type HeldRow,
  type NodeRow,
  type ReservationRow,
} from './rows';
import {
  DEFAULT_STALE_AFTER_MS,
  isHostResource,
  type NodeRecord,
  type ReservationRecord,
  type ResourceVector,
} from './types';
import { EPSILON, subtractVectors } from './vectors';
import type { PoolRecord } from './pools';
import type { Boost } from './boosts';
import { BOOST_SELECT, toBoost, type BoostRow } from './boosts';
import { LEARNED_MIN_SAMPLES } from '../execution/learned';
import type { LiveRows, LiveRowsRead } from './live-rows';

/** A node as the scheduler sees it. */
export interface NodeState extends NodeRecord {
  /** Σ granted per host resource by active reservations on it. */
  granted: ResourceVector;
  /** `capacity − granted` per resource of its capacity (negative when capacity shrank below grants). */
  free: ResourceVector;
  /** Silent for longer than `staleAfterMs`: nothing new is granted on it. */
  stale: boolean;
  /**
   * Its capacity shrank below what it has granted (it re-registered smaller): nothing new is granted on it
   * until its grants fit again.
   */
  overcommitted: boolean;
}

/** Everything one scheduling cycle needs, read consistently at one instant. */
export interface LedgerSnapshot {
  /** The time the snapshot was taken for. */
  now: Date;
  /** Nodes by id. */
  nodes: NodeState[];
  /** Custom pools by name. */
  pools: PoolRecord[];
  /**
   * Pending requests, oldest first; one that declares no `expectedSeconds` carries its stage key's learned
   * run time (`learned`) when there is one.
   */
  pending: ReservationRecord[];
  /** Granted and running reservations (candidates for a smaller allocation), by key. */
  active: ReservationRecord[];
  /** Boosts active at `now`, oldest first. */
  boosts: Boost[];
  /** How the live reservations were read when through {@link SnapshotOptions.liveRows}. */
  liveRead?: LiveRowsRead;
}

/** Options of {@link snapshot}. */
export interface SnapshotOptions {
  /** A node silent longer than this is stale. @default DEFAULT_STALE_AFTER_MS */
  staleAfterMs?: number;
  /**
   * Read only this pending request and no active reservation (the fast path's view: one request, the
   * nodes' aggregated holdings). @default every pending and active reservation
   */
  onlyPending?: string;
  /**
   * Read the live reservations through this process's copy of them ({@link LiveRows}: only rows written
   * since its last read), not in full. Ignored with `onlyPending`. The transaction must be REPEATABLE READ.
   * @default a full read
   */
  liveRows?: LiveRows;
  /**
   * With `onlyPending`: read the active (granted and running) reservations too — the grants a request could be
   * granted behind (bounded by what the nodes hold, whatever the queue length). @default false
   */
  withActive?: boolean;
}

/**
 * The learned run time of a reservation that declares none (an unsharded request of a known stage key with
 * at least LEARNED_MIN_SAMPLES completed runs): one primary-key probe per row.
 */
const LEARNED_JOIN = `LEFT JOIN LATERAL (
    SELECT e.seconds AS learned_seconds, e.samples AS learned_samples FROM qm_run_estimates e
     WHERE qm_reservations.expected_seconds IS NULL AND qm_reservations.shard_index IS NULL
       AND e.definition_name = qm_reservations.definition_name AND e.stage_id = qm_reservations.stage_id
       AND e.handler = qm_reservations.handler AND e.samples >= ${LEARNED_MIN_SAMPLES}) l ON true`;

/**
 * Reads the ledger for a scheduling cycle in one REPEATABLE READ, read-only transaction, so nodes, pools,
 * holdings and requests are mutually consistent. Decisions made from it are written by `commitDecisions`,
 * which re-checks them.
 * @throws DatabaseUnavailableError.
 */
export async function snapshot(
  db: Database,
  now?: Date,
  options: SnapshotOptions = {},
): Promise<LedgerSnapshot> {
  return inTransaction(
    db,
    'snapshot',
    async (client) => snapshotIn(client, now ?? (await databaseNow(client)), options),
    'REPEATABLE READ READ ONLY',
  );
}

/**
 * {@link snapshot} inside a transaction the caller holds.
 * @throws the driver's error.
 */
export async function snapshotIn(
  client: pg.PoolClient,
  now: Date,
  options: SnapshotOptions = {},
): Promise<LedgerSnapshot> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const liveRows = options.onlyPending === undefined ? options.liveRows : undefined;
  // Live rows as two predicates, one partial index each: an IN over all three live states made PostgreSQL scan
  // every ended row, every cycle.
  const which =
    options.onlyPending === undefined
      ? `WHERE state = 'pending' OR state IN ('granted', 'running') ORDER BY requested_at, key`
      : `WHERE (key = ${client.escapeLiteral(options.onlyPending)} AND state = 'pending')${
          options.withActive === true ? ` OR state IN ('granted', 'running')` : ''
        }`;
  // The reads in one round trip (the simple protocol runs them in order, inside the caller's transaction):
  // every request's fast path and every cycle take a snapshot, and five round trips each were a third of the
  // ledger's statements under a burst. Literals only (the simple protocol takes no parameters), escaped. The
  // reservations come last, and not at all when a copy of them is kept (read after, same transaction).
  const results = (await client.query(
    [
      `SELECT id, task_queue, capacity, labels, registered_at, last_heartbeat, usage, forecast, usage_at
         FROM qm_nodes ORDER BY id`,
      'SELECT name, capacity, updated_at FROM qm_pools ORDER BY name',
      HELD_SQL,
      `SELECT ${BOOST_SELECT} FROM qm_boosts
        WHERE expired_at IS NULL AND expires_at > ${client.escapeLiteral(now.toISOString())}::timestamptz
        ORDER BY created_at, id`,
      ...(liveRows === undefined
        ? [
            `SELECT ${RESERVATION_SELECT}, l.learned_seconds, l.learned_samples FROM qm_reservations ${LEARNED_JOIN} ${which}`,
          ]
        : []),
    ].join(';\n'),
  )) as unknown as [
    pg.QueryResult<NodeRow>,
    pg.QueryResult<{ name: string; capacity: number; updated_at: Date }>,
    pg.QueryResult<HeldRow>,
    pg.QueryResult<BoostRow>,
    pg.QueryResult<ReservationRow> | undefined,
  ];
  const [nodes, pools, held, boosts, reservations] = results;
  const nodeGranted = new Map<string, ResourceVector>();
  const poolGranted = new Map<string, number>();
  for (const h of held.rows) {
    if (isHostResource(h.resource)) {
      const v = nodeGranted.get(h.node_id) ?? {};
      v[h.resource] = h.granted;
      nodeGranted.set(h.node_id, v);
    } else poolGranted.set(h.resource, (poolGranted.get(h.resource) ?? 0) + h.granted);
  }
  const live = liveRows === undefined ? undefined : await liveRows.read(client);
  const all = reservations?.rows.map(toReservation) ?? [];
  return {
    now,
    nodes: nodes.rows.map((row) => {
      const node = toNode(row);
      const granted = nodeGranted.get(node.id) ?? {};
      const free = subtractVectors(node.capacity, granted);
      return {
        ...node,
        granted,
        free,
        stale: isStale(node.lastHeartbeat, now, staleAfterMs),
        overcommitted: Object.values(free).some((f) => f < -EPSILON),
      };
    }),
    pools: pools.rows.map((p) => {
      const granted = poolGranted.get(p.name) ?? 0;
      return {
        name: p.name,
        capacity: p.capacity,
        granted,
        free: p.capacity - granted,
        updatedAt: p.updated_at,
      };
    }),
    pending: live?.pending ?? all.filter((r) => r.state === 'pending'),
    active: live?.active ?? all.filter((r) => r.state !== 'pending').sort(byKey),
    boosts: boosts.rows.map(toBoost),
    ...(live === undefined ? {} : { liveRead: live.read }),
  };
}
