import type pg from 'pg';
import type { Database } from './db';
import { InvalidLedgerArgumentError, UnknownNodeError, UnknownPoolError } from './errors';
import { isStale } from './nodes';
import { HELD_SQL, toReservation, type HeldRow, type ReservationRow } from './rows';
import { RESERVATION_SELECT } from './reservations';
import { decisionChannel } from './channels';
import { databaseNow } from './clock';
import { named, withRetries } from './transaction';
import {
  DEFAULT_STALE_AFTER_MS,
  isHostResource,
  type LockStrategy,
  type ReservationRecord,
  type ResourceVector,
} from './types';
import { checkId, checkVector, EPSILON } from './vectors';

/**
 * The default way commitDecisions keeps `Σ granted ≤ capacity`: `row-locks`.
 *
 * Why: `npm run bench -- ledger` measured both side by side on the embedded PostgreSQL (BENCHMARKS.md,
 * 2-core machine). At 1 client they tie (grant p50 1.51 vs 1.53 ms). Under contention SERIALIZABLE loses
 * badly: its capacity check reads the set of active holdings, so concurrent grants on the same node or pool
 * form rw-conflicts and most abort and re-run (3284 retries in 5 s at 8 clients, 6828 at 32, some giving
 * up): at 8 clients half the throughput and ×7 the p99; at 32 clients a fifth of the throughput, p50 ×3.8
 * (157 vs 42 ms) and p99 ×7.8 (1.1 s vs 143 ms). Row locks simply queue grants on the same rows and never
 * retry. Both kept the invariant at every level (0 violations).
 */
export const DEFAULT_LOCK_STRATEGY: LockStrategy = 'row-locks';

/** One grant the scheduler decided on. */
export interface GrantDecision {
  /** Key of a pending reservation. */
  key: string;
  /** The node it is placed on. */
  nodeId: string;
  /** What it gets: host resources from the node, custom ones from their pools. Each ≥ the minimum's entry. */
  granted: ResourceVector;
  /** Lease length from `now`, in milliseconds (> 0). */
  leaseMs: number;
  /** The score behind the decision, stored for `qm queue`. */
  score?: number;
  /** The score per factor. */
  breakdown?: Record<string, number>;
  /** How it was placed (e.g. `desired fits on node-a`). */
  reason?: string;
  /**
   * A successor grant: the key of a held reservation on the same node whose capacity this one takes over
   * when it ends (never more of any resource than it holds). Not counted against capacity until then; its
   * stage waits at the gate in `runStage`. Absent: an ordinary grant on free capacity.
   */
  behind?: string;
}

/** A scheduler note on a request left waiting: why, and its score. */
export interface WaitNote {
  /** Key of a pending reservation (notes on other states are ignored). */
  key: string;
  /** Its score this cycle. */
  score: number;
  /** The score per factor. */
  breakdown?: Record<string, number>;
  /** Why it waits. */
  reason: string;
}

/** Why a grant was not written. */
export type RejectionReason =
  | 'unknown-reservation'
  | 'not-pending'
  | 'duplicate-in-batch'
  | 'node-stale'
  | 'node-overcommitted'
  | 'below-minimum'
  | 'insufficient-capacity'
  | 'predecessor-unavailable';

/** A grant that was not written, and why. */
export interface RejectedGrant {
  /** Reservation key. */
  key: string;
  /** Machine-readable reason. */
  reason: RejectionReason;
  /** Human-readable detail naming the resource and numbers. */
  detail: string;
}

/** A grant that was written. */
export interface AcceptedGrant {
  /** Reservation key. */
  key: string;
  /** Node. */
  nodeId: string;
  /** What was granted. */
  granted: ResourceVector;
  /** When its lease ends. */
  leaseExpiresAt: Date;
  /** A successor grant's predecessor (see {@link GrantDecision.behind}); absent for an ordinary grant. */
  behind?: string;
  /** The reservation as written, when the commit was asked for {@link CommitOptions.records}. */
  record?: ReservationRecord;
}

/** Result of {@link commitDecisions}: every decision is in exactly one list, in input order. */
export interface CommitResult {
  /** Grants written. */
  granted: AcceptedGrant[];
  /** Grants refused (nothing written for them). */
  rejected: RejectedGrant[];
}

/** Options of {@link commitDecisions}. */
export interface CommitOptions {
  /** How concurrency is controlled. @default DEFAULT_LOCK_STRATEGY ('row-locks') */
  strategy?: LockStrategy;
  /** A node silent longer than this gets nothing. @default 30000 ms */
  staleAfterMs?: number;
  /** Scores and reasons of requests left waiting, written in the same transaction. @default [] */
  waiting?: WaitNote[];
  /** Requests the scheduler decided to split: the order is stored on the pending row and its waiter told. @default [] */
  shardOrders?: ShardOrderNote[];
  /** Return each grant's reservation as written ({@link AcceptedGrant.record}). @default false */
  records?: boolean;
}

/** A decision to split a pending request into shards, for its waiting requester to read. */
export interface ShardOrderNote {
  /** Key of a pending reservation (ignored in any other state). */
  key: string;
  /** How many shards. */
  shardCount: number;
  /** What each shard asks for. */
  perShard: ResourceVector;
}

function checkDecision(d: GrantDecision, i: number): GrantDecision {
  checkId(`decisions[${i}].key`, d.key);
  checkId(`decisions[${i}].nodeId`, d.nodeId);
  if (d.behind !== undefined) {
    checkId(`decisions[${i}].behind`, d.behind);
    if (d.behind === d.key)
      throw new InvalidLedgerArgumentError(
        `decisions[${i}].behind`,
        d.behind,
        'another reservation than its own',
      );
  }
  const granted = checkVector(`decisions[${i}].granted`, d.granted);
  if (!Number.isFinite(d.leaseMs) || d.leaseMs <= 0) {
    throw new InvalidLedgerArgumentError(`decisions[${i}].leaseMs`, d.leaseMs, 'a finite number > 0');
  }
  return { ...d, granted };
}

/** The commit's lock statement's one row: the batch's nodes, pools and reservations, locked. */
interface LockedRows {
  nodes: Array<{ id: string; capacity: ResourceVector; last_heartbeat: string }> | null;
  pools: Array<{ name: string; capacity: number }> | null;
  reservations: Array<{
    key: string;
    state: string;
    minimum: ResourceVector;
    node_id: string | null;
    granted: ResourceVector | null;
    behind: string | null;
    offer_to: ResourceVector | null;
  }> | null;
}

/**
 * Why a successor grant cannot be carved from `predecessor` (undefined: it can): the predecessor must be held
 * (it may itself be a successor: a chain), on the successor's node, without another live successor or a pending
 * shrink offer, and hold at least what the successor is granted of every resource.
 */
function predecessorProblem(
  d: GrantDecision,
  predecessor:
    | {
        state: string;
        node_id: string | null;
        granted: ResourceVector | null;
        behind: string | null;
        offer_to: ResourceVector | null;
      }
    | undefined,
  followed: ReadonlySet<string>,
): string | undefined {
  const behind = d.behind as string;
  if (predecessor === undefined) return `no reservation with key "${behind}" to follow`;
  if (predecessor.state !== 'granted' && predecessor.state !== 'running')
    return `"${behind}" is ${predecessor.state}, not held`;
  if (predecessor.node_id !== d.nodeId)
    return `"${behind}" is on node "${predecessor.node_id}", not "${d.nodeId}"`;
  if (followed.has(behind)) return `"${behind}" already has a successor`;
  // An offer it may still accept would shrink the grant the successor is carved from.
  if (predecessor.offer_to !== null) return `"${behind}" has a pending shrink offer`;
  const held = predecessor.granted ?? {};
  const over = Object.entries(d.granted).find(([r, amount]) => amount > (held[r] ?? 0) + EPSILON);
  if (over !== undefined) return `${over[0]}: asked ${over[1]}, "${behind}" holds ${held[over[0]] ?? 0}`;
  return undefined;
}

/**
 * Writes a batch of grant decisions in one transaction, re-checking everything inside it: each reservation
 * must still be pending, its node fresh, the grant at least its minimum, and it must fit — per node and host
 * resource, and per custom pool, `Σ granted + this ≤ capacity`, counting earlier grants of the same batch.
 * A successor grant (`behind`) is checked against its predecessor instead ({@link predecessorProblem}) and
 * counts against nothing: its capacity is its predecessor's until that one ends (migration 010 moves it).
 * A grant that fails a check is returned in `rejected` and not written; the others are. So two schedulers
 * racing on the same snapshot can never overcommit, nor grant one reservation twice.
 *
 * Concurrency (see {@link DEFAULT_LOCK_STRATEGY}): `row-locks` locks the batch's node and pool rows
 * `FOR UPDATE` in name order (no deadlock between batches) before reading the holdings; `serializable`
 * reads them at SERIALIZABLE isolation (taking `FOR SHARE` on those rows only to order against capacity
 * changes, which run at READ COMMITTED) and re-runs the batch on a serialization failure.
 * @throws InvalidLedgerArgumentError / InvalidQuantityError for a malformed decision, UnknownNodeError or
 *   UnknownPoolError for a node or pool that does not exist — all before or instead of writing anything;
 *   LedgerContentionError (retryable) after too many conflicts; DatabaseUnavailableError (nothing written).
 */
export async function commitDecisions(
  db: Database,
  decisions: readonly GrantDecision[],
  now?: Date,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const strategy = options.strategy ?? DEFAULT_LOCK_STRATEGY;
  const checked = decisions.map(checkDecision);
  if (
    checked.length === 0 &&
    (options.waiting ?? []).length === 0 &&
    (options.shardOrders ?? []).length === 0
  )
    return { granted: [], rejected: [] };
  return withRetries(
    db,
    'commit decisions',
    (client) => commitDecisionsIn(client, db.schema, checked, now, options),
    { isolation: strategy === 'serializable' ? 'SERIALIZABLE' : 'READ COMMITTED' },
  );
}

/**
 * {@link commitDecisions} inside a transaction the caller holds (the fast path records a request and grants
 * it in one transaction). `decisions` must already be checked.
 * @param now the decision time; absent: the database's clock (`now()`), which every lease is computed on.
 */
export async function commitDecisionsIn(
  client: pg.PoolClient,
  schema: string,
  decisions: readonly GrantDecision[],
  nowOrDb: Date | undefined,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const strategy = options.strategy ?? DEFAULT_LOCK_STRATEGY;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const waiting = options.waiting ?? [];
  const shardOrders = options.shardOrders ?? [];
  const now = nowOrDb ?? (await databaseNow(client));
  const lock = strategy === 'row-locks' ? 'FOR UPDATE' : 'FOR SHARE';
  const nodeIds = [...new Set(decisions.map((d) => d.nodeId))].sort();
  const poolNames = [
    ...new Set(decisions.flatMap((d) => Object.keys(d.granted).filter((r) => !isHostResource(r)))),
  ].sort();

  // 1. One round trip (the simple protocol runs the statements in order, each on a fresh snapshot; literals
  // only, escaped) writes the notes, takes every lock and reads the holdings. Time under a node's lock is what
  // queues every other grant on that node: under a burst on a saturated machine each client round trip inside
  // it cost tens of milliseconds (the lock statement averaged 43 ms of waiting), so the locked section is this
  // round trip's tail, the check below, the grant's one statement and the COMMIT.
  //  a. The waiting notes and shard orders first, before any node is locked: they touch pending rows only (no
  //     grant of this batch), and a refreshing cycle writes thousands. Their rows are locked in key order
  //     first, as every batch locks reservations, so two writers of the same rows queue instead of deadlocking.
  //  b. Every lock, in a fixed order: nodes, then pools, then the batch's reservations and the predecessors
  //     they follow (locked so a concurrent release or second grant waits for us), each in name order.
  //  c. Predecessors that already have a live successor, and what is held now: read after the locks, so they
  //     include every grant committed before ours.
  const predecessors = [...new Set(decisions.flatMap((d) => (d.behind === undefined ? [] : [d.behind])))];
  const keys = [...new Set([...decisions.map((d) => d.key), ...predecessors])].sort();
  const noted = [...new Set([...waiting.map((w) => w.key), ...shardOrders.map((o) => o.key)])].sort();
  const lit = (value: string): string => client.escapeLiteral(value);
  const texts = (values: readonly string[]): string => `ARRAY[${values.map(lit).join(', ')}]::text[]`;
  const at = `${lit(now.toISOString())}::timestamptz`;
  const channel = lit(decisionChannel(schema));
  const statements: string[] = [];
  if (noted.length > 0)
    statements.push(`SELECT count(*) FROM (SELECT 1 FROM qm_reservations
                       WHERE key = ANY(${texts(noted)}) ORDER BY key FOR UPDATE) n`);
  if (shardOrders.length > 0) {
    const payload = lit(
      JSON.stringify(
        shardOrders.map((o) => ({ key: o.key, order: { shardCount: o.shardCount, perShard: o.perShard } })),
      ),
    );
    statements.push(`WITH upd AS (
         UPDATE qm_reservations r SET shard_order = o.order, updated_at = ${at}
           FROM jsonb_to_recordset(${payload}::jsonb) AS o(key text, "order" jsonb)
          WHERE r.key = o.key AND r.state = 'pending')
       SELECT count(pg_notify(${channel}, o.key)) FROM jsonb_to_recordset(${payload}::jsonb) AS o(key text)`);
  }
  if (waiting.length > 0) {
    const payload = waiting.map((w) => ({
      key: w.key,
      score: w.score,
      breakdown: w.breakdown ?? null,
      reason: w.reason,
    }));
    // A waiter whose reason changed is told at once (it tells its workflow why it waits, a bounded number of
    // times); an unchanged reason wakes nobody. The old reason is read by an indexed join inside the UPDATE's
    // own FROM (not by joining two CTEs, which the planner scanned pairwise: 10,000 wait notes took seconds).
    statements.push(`WITH upd AS (
              UPDATE qm_reservations r
                 SET last_score = w.score, score_breakdown = w.breakdown, reason = w.reason, updated_at = ${at}
                FROM (SELECT n.key, n.score, n.breakdown, n.reason, o.reason AS old_reason
                        FROM jsonb_to_recordset(${lit(JSON.stringify(payload))}::jsonb)
                             AS n(key text, score float8, breakdown jsonb, reason text)
                        JOIN qm_reservations o ON o.key = n.key) AS w
               WHERE r.key = w.key AND r.state = 'pending'
              RETURNING r.key, w.old_reason IS DISTINCT FROM w.reason AS changed)
       SELECT count(pg_notify(${channel}, key)) FROM upd WHERE changed`);
  }
  const notes = statements.length;
  if (decisions.length > 0) {
    statements.push(`SELECT
      (SELECT json_agg(n) FROM (SELECT id, capacity, last_heartbeat FROM qm_nodes
                                 WHERE id = ANY(${texts(nodeIds)}) ORDER BY id ${lock}) n) AS nodes,
      (SELECT json_agg(p) FROM (SELECT name, capacity FROM qm_pools
                                 WHERE name = ANY(${texts(poolNames)}) ORDER BY name ${lock}) p) AS pools,
      (SELECT json_agg(r) FROM (SELECT key, state, minimum, node_id, granted, behind, offer_to FROM qm_reservations
                                 WHERE key = ANY(${texts(keys)}) ORDER BY key FOR UPDATE) r) AS reservations`);
    if (predecessors.length > 0)
      statements.push(`SELECT behind FROM qm_reservations
                        WHERE behind = ANY(${texts(predecessors)}) AND state IN ('granted', 'running')`);
    statements.push(`SELECT * FROM (${HELD_SQL}) held
                      WHERE held.node_id = ANY(${texts(nodeIds)}) OR held.resource = ANY(${texts(poolNames)})`);
  }
  if (statements.length === 0) return { granted: [], rejected: [] };
  const raw = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
  if (decisions.length === 0) return { granted: [], rejected: [] };
  const results = (Array.isArray(raw) ? raw : [raw]).slice(notes);
  const locked = (results[0] as pg.QueryResult<LockedRows>).rows[0];
  const followedRows = predecessors.length > 0 ? (results[1] as pg.QueryResult<{ behind: string }>).rows : [];
  const heldRows = (results[predecessors.length > 0 ? 2 : 1] as pg.QueryResult<HeldRow>).rows;
  const nodes = new Map<string, { capacity: ResourceVector; lastHeartbeat: Date }>();
  for (const r of locked?.nodes ?? [])
    nodes.set(r.id, { capacity: r.capacity, lastHeartbeat: new Date(r.last_heartbeat) });
  const missingNode = nodeIds.find((id) => !nodes.has(id));
  if (missingNode !== undefined) throw new UnknownNodeError(missingNode);
  const pools = new Map<string, number>();
  for (const r of locked?.pools ?? []) pools.set(r.name, r.capacity);
  const missingPool = poolNames.find((name) => !pools.has(name));
  if (missingPool !== undefined) throw new UnknownPoolError(missingPool);
  const reservations = new Map((locked?.reservations ?? []).map((r) => [r.key, r]));
  const followed = new Set(followedRows.map((r) => r.behind));
  const nodeHeld = new Map<string, number>(); // `${node}\u0000${resource}` -> Σ granted
  const poolHeld = new Map<string, number>();
  for (const r of heldRows) {
    if (isHostResource(r.resource)) nodeHeld.set(`${r.node_id}\u0000${r.resource}`, r.granted);
    else poolHeld.set(r.resource, (poolHeld.get(r.resource) ?? 0) + r.granted);
  }

  // A node whose capacity shrank below what it has granted (re-registered smaller) takes nothing new until
  // its grants fit again.
  const overcommitted = new Map<string, string>();
  for (const [id, node] of nodes) {
    for (const [resource, capacity] of Object.entries(node.capacity)) {
      const held = nodeHeld.get(`${id}\u0000${resource}`) ?? 0;
      if (held > capacity + EPSILON) {
        overcommitted.set(
          id,
          `node "${id}" is overcommitted: ${resource} granted ${held} > capacity ${capacity}`,
        );
        break;
      }
    }
  }

  // 2. Decide each grant against the books, in order, counting the batch's own earlier grants.
  const result: CommitResult = { granted: [], rejected: [] };
  const seen = new Set<string>();
  const accepted: GrantDecision[] = [];
  const acceptedByKey = new Map<string, GrantDecision>();
  const reject = (key: string, reason: RejectionReason, detail: string): void => {
    result.rejected.push({ key, reason, detail });
  };
  const accept = (d: GrantDecision): void => {
    seen.add(d.key);
    accepted.push(d);
    acceptedByKey.set(d.key, d);
    result.granted.push({
      key: d.key,
      nodeId: d.nodeId,
      granted: d.granted,
      leaseExpiresAt: new Date(now.getTime() + d.leaseMs),
      ...(d.behind === undefined ? {} : { behind: d.behind }),
    });
  };
  for (const d of decisions) {
    const reservation = reservations.get(d.key);
    const node = nodes.get(d.nodeId) as { capacity: ResourceVector; lastHeartbeat: Date };
    if (reservation === undefined) {
      reject(d.key, 'unknown-reservation', `no reservation with key "${d.key}"`);
      continue;
    }
    if (seen.has(d.key)) {
      reject(d.key, 'duplicate-in-batch', `"${d.key}" is granted earlier in this batch`);
      continue;
    }
    if (reservation.state !== 'pending') {
      reject(d.key, 'not-pending', `"${d.key}" is ${reservation.state}, not pending`);
      continue;
    }
    const over = overcommitted.get(d.nodeId);
    if (over !== undefined) {
      reject(d.key, 'node-overcommitted', over);
      continue;
    }
    if (isStale(node.lastHeartbeat, now, staleAfterMs)) {
      reject(
        d.key,
        'node-stale',
        `node "${d.nodeId}" last heartbeat ${node.lastHeartbeat.toISOString()} is older than ${staleAfterMs} ms`,
      );
      continue;
    }
    const short = Object.entries(reservation.minimum).find(([r, min]) => (d.granted[r] ?? 0) + EPSILON < min);
    if (short !== undefined) {
      reject(
        d.key,
        'below-minimum',
        `${short[0]}: granted ${d.granted[short[0]] ?? 0} < minimum ${short[1]}`,
      );
      continue;
    }
    if (d.behind !== undefined) {
      // A predecessor granted earlier in this batch (a chain the cycle extended) counts as the grant it got.
      const earlier = acceptedByKey.get(d.behind);
      const predecessor =
        earlier === undefined
          ? reservations.get(d.behind)
          : {
              state: 'granted',
              node_id: earlier.nodeId,
              granted: earlier.granted,
              behind: earlier.behind ?? null,
              offer_to: null,
            };
      const unavailable = predecessorProblem(d, predecessor, followed);
      if (unavailable !== undefined) {
        reject(d.key, 'predecessor-unavailable', unavailable);
        continue;
      }
      // Carved from its predecessor's grant: counted once, as the predecessor's, until it ends.
      followed.add(d.behind);
      accept(d);
      continue;
    }
    let misfit: string | undefined;
    for (const [resource, amount] of Object.entries(d.granted)) {
      if (amount === 0) continue;
      const host = isHostResource(resource);
      const capacity = host ? (node.capacity[resource] ?? 0) : (pools.get(resource) ?? 0);
      const held = host ? (nodeHeld.get(`${d.nodeId}\u0000${resource}`) ?? 0) : (poolHeld.get(resource) ?? 0);
      if (held + amount > capacity + EPSILON) {
        misfit = `${resource} on ${host ? `node "${d.nodeId}"` : 'its pool'}: asked ${amount}, free ${capacity - held} of ${capacity}`;
        break;
      }
    }
    if (misfit !== undefined) {
      reject(d.key, 'insufficient-capacity', misfit);
      continue;
    }
    for (const [resource, amount] of Object.entries(d.granted)) {
      if (isHostResource(resource)) {
        const k = `${d.nodeId}\u0000${resource}`;
        nodeHeld.set(k, (nodeHeld.get(k) ?? 0) + amount);
      } else poolHeld.set(resource, (poolHeld.get(resource) ?? 0) + amount);
    }
    accept(d);
  }

  // 3. Write: all accepted grants in one statement that also tells their requesters (NOTIFY is delivered at
  // COMMIT, only if it commits).
  if (result.granted.length > 0) {
    const payload = result.granted.map((g, i) => {
      const d = accepted[i] as GrantDecision;
      return {
        key: g.key,
        node_id: g.nodeId,
        granted: g.granted,
        lease_expires_at: g.leaseExpiresAt.toISOString(),
        score: d.score ?? null,
        breakdown: d.breakdown ?? null,
        reason: d.reason ?? null,
        behind: d.behind ?? null,
      };
    });
    // With `records`, the rows as written come back (the fast path returns its grant without reading it again).
    const { rows } = await client.query<ReservationRow>(
      named(
        options.records === true ? 'qm-commit-grant-records' : 'qm-commit-grant',
        `WITH upd AS (
           UPDATE qm_reservations r
              SET state = 'granted', node_id = d.node_id, granted = d.granted, lease_expires_at = d.lease_expires_at,
                  granted_at = $2, updated_at = $2,
                  last_score = coalesce(d.score, r.last_score),
                  score_breakdown = coalesce(d.breakdown, r.score_breakdown),
                  reason = coalesce(d.reason, r.reason), behind = d.behind
             FROM jsonb_to_recordset($1::jsonb)
                  AS d(key text, node_id text, granted jsonb, lease_expires_at timestamptz,
                       score float8, breakdown jsonb, reason text, behind text)
            WHERE r.key = d.key
           RETURNING r.*)
         SELECT pg_notify($3, key) AS notified${options.records === true ? `, ${RESERVATION_SELECT}` : ''} FROM upd`,
        [JSON.stringify(payload), now, decisionChannel(schema)],
      ),
    );
    if (options.records === true) {
      const written = new Map(rows.map((row) => [row.key, toReservation(row)]));
      for (const g of result.granted) {
        const record = written.get(g.key);
        if (record !== undefined) g.record = record;
      }
    }
  }
  return result;
}
