import type pg from 'pg';
import type { Database } from './db';
import { inStatement, inTransaction } from './db';
import { databaseNow } from './clock';
import {
  IllegalTransitionError,
  InvalidLedgerArgumentError,
  LeaseExpiredError,
  translateDbError,
  UnknownPoolError,
  UnknownReservationError,
} from './errors';
import { recordingEnded } from './executions';
import { toReservation, type ReservationRow } from './rows';
import type { ExecutionOutcome } from '../execution/record';
import { named } from './transaction';
import { transition, TRANSITIONS, type ReservationEvent } from '../admission/lifecycle';
import { DEFAULT_LEASE_MS } from '../admission/constants';
import {
  isHostResource,
  type ReservationRecord,
  type ReservationState,
  type ResourceVector,
  type ShardSpecRecord,
  type ShrinkOfferRecord,
} from './types';
import { checkId, checkQuantity, checkVector } from './vectors';

/** Input of {@link requestReservation}. */
export interface ReservationRequest {
  /** Idempotency key: a retried request with the same key returns the first one. */
  key: string;
  /** The requesting workflow. */
  workflowId: string;
  /** Its run id. @default null */
  runId?: string;
  /** The stage asking. */
  stageId: string;
  /** The shard index when a shard asks. @default null */
  shardIndex?: number;
  /** Integer 1–10, 10 highest. */
  priority: number;
  /** Declared importance (≥ 0; boosts add to it when scoring). @default 0 */
  importance?: number;
  /** What the stage would like. */
  desired: ResourceVector;
  /** The least it can run with; each entry ≤ its `desired`. @default desired */
  minimum?: ResourceVector;
  /** How the request may be split into shards when it cannot fit; absent when it cannot. @default null */
  shardSpec?: ShardSpecRecord;
  /**
   * How long the stage usually runs at its desired allocation, in seconds (finite, > 0); read by start-time
   * estimates, never enforced. @default null (unknown)
   */
  expectedSeconds?: number;
  /**
   * Lease of the pending request, ms from the database's `now()`: its waiter renews it; a lapsed one is
   * expired by the next cycle (the requester is gone). @default DEFAULT_LEASE_MS
   */
  leaseMs?: number;
  /** A node to place it elsewhere than, when another fits (the node that just lost this stage). @default none */
  avoidNode?: string;
  /**
   * When its age counts from, if earlier than now (a shard carries its stage's request time); never later than
   * the database's now. @default now
   */
  requestedAt?: Date;
  /**
   * The requesting pipeline's definition name, recorded with the attempt (execution data) and keying its
   * learned run time. @default null (a request made through the ledger API alone: never learned from)
   */
  definitionName?: string;
  /** The definition's registered version, when the pipeline was started from the registry. @default null */
  definitionVersion?: number;
  /** The handler the stage runs (execution data; part of the learned run time's key). @default null */
  handler?: string;
  /** The stage's attempt number (integer ≥ 1); renewals of one attempt share it. @default 1 */
  attempt?: number;
}

/** Result of {@link requestReservation}. */
export interface RequestResult {
  /** The reservation (the existing one on a retry). */
  reservation: ReservationRecord;
  /** False when the key already existed and nothing was written. */
  created: boolean;
}

/** What a holder has now (returned by {@link renewLease} and {@link markRunning}). */
export interface Allocation {
  /** Reservation key. */
  key: string;
  /** Its state after the call. */
  state: ReservationState;
  /** The node it runs on. */
  nodeId: string;
  /** What it holds now; may be smaller than at grant time once grants can be shrunk. */
  granted: ResourceVector;
  /** When the lease ends unless renewed again. */
  leaseExpiresAt: Date;
  /**
   * How long the lease has left, ms, on the database's clock: what a node may count down on its own
   * monotonic clock to fence itself (abort the handler before the lease ends) whatever its wall clock says.
   */
  leaseRemainingMs: number;
  /**
   * A smaller allocation the scheduler offers it (graceful degradation), waiting for an answer
   * (`acceptShrink` / `declineShrink`); null when none.
   */
  offer: ShrinkOfferRecord | null;
  /**
   * A successor grant still waiting for its predecessor (that key) to end: {@link markRunning} left it
   * `granted` (it may not start yet) and renewed its lease. Null once it holds capacity of its own.
   */
  behind: string | null;
}

/**
 * How a released attempt ended, as its record says: `completed` or `failed` (its handler's outcome),
 * `cancelled` (its workflow was cancelled, or it never ran).
 */
export type ReleaseOutcome = Exclude<ExecutionOutcome, 'expired'>;

/** Options of {@link releaseReservation}. */
export interface ReleaseOptions {
  /**
   * How the attempt ended, for its execution record. @default `completed` when it had started running,
   * `cancelled` when it had not (a caller that does not say, e.g. an older workflow)
   */
  outcome?: ReleaseOutcome;
  /**
   * Write no execution record: the request is no attempt of its own (withdrawn to be split into shards; the
   * shards' attempts are recorded). @default true
   */
  record?: boolean;
}

/** Result of {@link releaseReservation}. */
export interface ReleaseResult {
  /** Reservation key. */
  key: string;
  /** Its state after the call (`released`, or the terminal state it already had). */
  state: ReservationState;
  /** False when it had already ended (a retried release): nothing changed. */
  changed: boolean;
  /**
   * Some request was pending when it was released: its capacity has a taker for a cycle to find (false: a
   * hand-off would find nobody; nothing to run).
   */
  pending: boolean;
}

const RESERVATION_COLUMNS = `key, workflow_id, run_id, stage_id, shard_index, priority, importance, desired, minimum,
  granted, node_id, state, lease_expires_at, requested_at, granted_at, ended_at, last_score, score_breakdown, reason,
  shard_spec, expected_seconds, shard_order, avoid_node, seq, started_at, definition_name, definition_version, handler, attempt,
  shrinks, estimated_start_at, behind, promoted_at`;

/** Columns of a reservation, for other ledger modules' SELECTs. */
export const RESERVATION_SELECT = RESERVATION_COLUMNS;

function checkShardSpec(spec: ShardSpecRecord): ShardSpecRecord {
  const int = (field: string, value: unknown, min: number): void => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new InvalidLedgerArgumentError(`request.shardSpec.${field}`, value, `an integer >= ${min}`);
    }
  };
  int('maxShards', spec.maxShards, 1);
  if (spec.itemCount !== undefined) int('itemCount', spec.itemCount, 0);
  if (spec.minItemsPerShard !== undefined) int('minItemsPerShard', spec.minItemsPerShard, 1);
  return {
    maxShards: spec.maxShards,
    ...(spec.itemCount === undefined ? {} : { itemCount: spec.itemCount }),
    ...(spec.minItemsPerShard === undefined ? {} : { minItemsPerShard: spec.minItemsPerShard }),
    ...(spec.perShardFloor === undefined
      ? {}
      : { perShardFloor: checkVector('request.shardSpec.perShardFloor', spec.perShardFloor) }),
  };
}

/** A request after {@link checkRequest}: every field present, absent ones null. */
export type CheckedRequest = Required<
  Omit<
    ReservationRequest,
    | 'runId'
    | 'shardIndex'
    | 'shardSpec'
    | 'expectedSeconds'
    | 'avoidNode'
    | 'requestedAt'
    | 'definitionName'
    | 'definitionVersion'
    | 'handler'
  >
> & {
  runId: string | null;
  shardIndex: number | null;
  shardSpec: ShardSpecRecord | null;
  expectedSeconds: number | null;
  avoidNode: string | null;
  requestedAt: Date | null;
  definitionName: string | null;
  definitionVersion: number | null;
  handler: string | null;
};

function checkRequestedAt(at: unknown): Date | null {
  if (at === undefined) return null;
  if (!(at instanceof Date) || !Number.isFinite(at.getTime()))
    throw new InvalidLedgerArgumentError('request.requestedAt', at, 'a valid Date');
  return at;
}

/**
 * Validates a request at the ledger's edge.
 * @throws InvalidLedgerArgumentError / InvalidQuantityError naming the field and the bad value.
 */
export function checkRequest(input: ReservationRequest): CheckedRequest {
  const key = checkId('request.key', input.key);
  const workflowId = checkId('request.workflowId', input.workflowId);
  const stageId = checkId('request.stageId', input.stageId);
  if (!Number.isInteger(input.priority) || input.priority < 1 || input.priority > 10) {
    throw new InvalidLedgerArgumentError('request.priority', input.priority, 'an integer from 1 to 10');
  }
  if (input.shardIndex !== undefined && (!Number.isInteger(input.shardIndex) || input.shardIndex < 0)) {
    throw new InvalidLedgerArgumentError('request.shardIndex', input.shardIndex, 'an integer >= 0');
  }
  if (
    input.expectedSeconds !== undefined &&
    (typeof input.expectedSeconds !== 'number' ||
      !Number.isFinite(input.expectedSeconds) ||
      input.expectedSeconds <= 0)
  ) {
    throw new InvalidLedgerArgumentError(
      'request.expectedSeconds',
      input.expectedSeconds,
      'a finite number > 0',
    );
  }
  const importance = checkQuantity('request.importance', input.importance ?? 0);
  const desired = checkVector('request.desired', input.desired);
  const minimum = checkVector('request.minimum', input.minimum ?? desired);
  for (const [name, min] of Object.entries(minimum)) {
    const want = desired[name];
    if (want === undefined || min > want) {
      throw new InvalidLedgerArgumentError(
        `request.minimum.${name}`,
        min,
        `<= request.desired.${name} (${want ?? 'absent'})`,
      );
    }
  }
  const attempt = input.attempt ?? 1;
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new InvalidLedgerArgumentError('request.attempt', attempt, 'an integer >= 1');
  if (
    input.definitionVersion !== undefined &&
    (!Number.isInteger(input.definitionVersion) || input.definitionVersion < 1)
  )
    throw new InvalidLedgerArgumentError(
      'request.definitionVersion',
      input.definitionVersion,
      'an integer >= 1',
    );
  const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0)
    throw new InvalidLedgerArgumentError('request.leaseMs', leaseMs, 'a finite number > 0');
  return {
    key,
    workflowId,
    leaseMs,
    avoidNode: input.avoidNode === undefined ? null : checkId('request.avoidNode', input.avoidNode),
    requestedAt: checkRequestedAt(input.requestedAt),
    runId: input.runId ?? null,
    stageId,
    shardIndex: input.shardIndex ?? null,
    shardSpec: input.shardSpec === undefined ? null : checkShardSpec(input.shardSpec),
    expectedSeconds: input.expectedSeconds ?? null,
    priority: input.priority,
    importance,
    desired,
    minimum,
    attempt,
    definitionName:
      input.definitionName === undefined ? null : checkId('request.definitionName', input.definitionName),
    definitionVersion: input.definitionVersion ?? null,
    handler: input.handler === undefined ? null : checkId('request.handler', input.handler),
  };
}

/**
 * Records a pending request. Idempotent on `key`: a retry (same key) writes nothing and returns the
 * reservation as it is now, whatever its state.
 * @throws InvalidQuantityError / InvalidLedgerArgumentError for a bad request (nothing written);
 *   UnknownPoolError when `desired` names a custom resource with no declared pool; DatabaseUnavailableError.
 */
export async function requestReservation(
  db: Database,
  input: ReservationRequest,
  now?: Date,
): Promise<RequestResult> {
  const r = checkRequest(input);
  return inTransaction(db, 'request reservation', async (client) => {
    const { reservation, created } = await insertRequestIn(client, r, now);
    return { reservation, created };
  });
}

/**
 * {@link requestReservation} inside a transaction the caller holds, for a checked request. A pending
 * request's lease starts at `now` (absent: the database's clock). A retry (same key) of a request that is
 * still pending renews its lease.
 * @returns the reservation, whether it was created, and the transaction's `now()` (the database's clock: the
 *   caller needs no round trip of its own for it).
 * @throws UnknownPoolError; the driver's error.
 */
export async function insertRequestIn(
  client: pg.PoolClient,
  r: CheckedRequest,
  now?: Date,
): Promise<RequestResult & { now: Date }> {
  const custom = Object.keys(r.desired).filter((name) => !isHostResource(name));
  if (custom.length > 0) {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM qm_pools WHERE name = ANY($1)', [
      custom,
    ]);
    const known = new Set(rows.map((p) => p.name));
    const missing = custom.find((name) => !known.has(name));
    if (missing !== undefined) throw new UnknownPoolError(missing);
  }
  const inserted = await client.query<ReservationRow & { tx_now: Date }>(
    named(
      'qm-request-insert',
      `INSERT INTO qm_reservations
            (key, workflow_id, run_id, stage_id, shard_index, priority, importance, desired, minimum,
             state, requested_at, updated_at, shard_spec, expected_seconds, lease_expires_at, avoid_node,
             definition_name, definition_version, handler, attempt)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', least(coalesce($15::timestamptz, t.at), t.at), t.at,
            $11, $12, t.at + $13 * interval '1 millisecond', $14, $16, $17, $18, $19
       FROM (SELECT coalesce($10::timestamptz, now()) AS at) t
     ON CONFLICT (key) DO NOTHING
     RETURNING ${RESERVATION_COLUMNS}, now() AS tx_now`,
      [
        r.key,
        r.workflowId,
        r.runId,
        r.stageId,
        r.shardIndex,
        r.priority,
        r.importance,
        JSON.stringify(r.desired),
        JSON.stringify(r.minimum),
        now ?? null,
        r.shardSpec === null ? null : JSON.stringify(r.shardSpec),
        r.expectedSeconds,
        r.leaseMs,
        r.avoidNode,
        r.requestedAt,
        r.definitionName,
        r.definitionVersion,
        r.handler,
        r.attempt,
      ],
    ),
  );
  const row = inserted.rows[0];
  if (row !== undefined) return { reservation: toReservation(row), created: true, now: row.tx_now };
  const existing = await client.query<ReservationRow & { tx_now: Date }>(
    `UPDATE qm_reservations
        SET lease_expires_at = CASE WHEN state = 'pending'
                                    THEN coalesce($2::timestamptz, now()) + $3 * interval '1 millisecond'
                                    ELSE lease_expires_at END
      WHERE key = $1
     RETURNING ${RESERVATION_COLUMNS}, now() AS tx_now`,
    [r.key, now ?? null, r.leaseMs],
  );
  const found = existing.rows[0] as ReservationRow & { tx_now: Date };
  return { reservation: toReservation(found), created: false, now: found.tx_now };
}

/**
 * One reservation by key.
 * @throws UnknownReservationError; DatabaseUnavailableError.
 */
export async function getReservation(db: Database, key: string): Promise<ReservationRecord> {
  try {
    const { rows } = await db.pool.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM qm_reservations WHERE key = $1`,
      [key],
    );
    const row = rows[0];
    if (row === undefined) throw new UnknownReservationError(key);
    return toReservation(row);
  } catch (err) {
    throw translateDbError(err, 'read reservation');
  }
}

async function lockReservation(client: pg.PoolClient, key: string): Promise<ReservationRow> {
  const { rows } = await client.query<ReservationRow>(
    named(
      'qm-reservation-lock',
      `SELECT ${RESERVATION_COLUMNS} FROM qm_reservations WHERE key = $1 FOR UPDATE`,
      [key],
    ),
  );
  const row = rows[0];
  if (row === undefined) throw new UnknownReservationError(key);
  return row;
}

/**
 * What every lease touch returns besides the grant: the shrink-offer columns (migration 005: a renewal is how a
 * running stage learns of one) and the predecessor a successor still waits behind (migration 010).
 */
interface TouchColumns {
  offer_to: ResourceVector | null;
  offer_for: string | null;
  offered_at: Date | null;
  behind: string | null;
}

interface TouchedRow extends TouchColumns {
  state: ReservationState;
  node_id: string;
  granted: ResourceVector;
  lease_expires_at: Date;
}

/** What a held reservation holds after a lease touch, with its pending shrink offer and predecessor (if any). */
function heldAllocation(
  key: string,
  state: ReservationState,
  nodeId: string,
  granted: ResourceVector,
  leaseExpiresAt: Date,
  leaseMs: number,
  o: TouchColumns | undefined,
): Allocation {
  return {
    behind: o?.behind ?? null,
    key,
    state,
    nodeId,
    granted,
    leaseExpiresAt,
    leaseRemainingMs: leaseMs,
    offer:
      o !== undefined && o.offer_to !== null && o.offer_for !== null && o.offered_at !== null
        ? { key, nodeId, from: granted, to: o.offer_to, forKey: o.offer_for, offeredAt: o.offered_at }
        : null,
  };
}

/**
 * The common case of {@link touchLease} in one statement: a granted or running reservation whose lease has
 * not lapsed moves (`start`: to running) and gets a whole lease. Returns undefined when the row is anything
 * else (pending, ended, lapsed, unknown): the caller's transaction then sorts out which error it is, and
 * records a lapse. A stage's start and every renewal take this path (one round trip instead of five).
 */
async function touchLiveLease(
  db: Database,
  operation: string,
  key: string,
  event: ReservationEvent,
  leaseMs: number,
  now: Date | undefined,
): Promise<Allocation | undefined> {
  const rows = await inStatement(db, operation, async (pool) => {
    const result = await pool.query<TouchedRow>(
      named(
        'qm-lease-touch',
        `UPDATE qm_reservations
            SET state = CASE WHEN $2 = 'start' AND behind IS NULL THEN 'running' ELSE state END,
                lease_expires_at = coalesce($4::timestamptz, now()) + $3 * interval '1 millisecond',
                updated_at = coalesce($4::timestamptz, now()),
                started_at = CASE WHEN $2 = 'start' AND behind IS NULL
                                  THEN coalesce(started_at, $4::timestamptz, now()) ELSE started_at END
          WHERE key = $1 AND state IN ('granted', 'running')
            AND lease_expires_at > coalesce($4::timestamptz, now())
         RETURNING state, node_id, granted, lease_expires_at, offer_to, offer_for, offered_at, behind`,
        [key, event, leaseMs, now ?? null],
      ),
    );
    return result.rows;
  });
  const row = rows[0];
  if (row === undefined) return undefined;
  return heldAllocation(key, row.state, row.node_id, row.granted, row.lease_expires_at, leaseMs, row);
}

/**
 * Applies `event` (start or renew) to a held reservation, extending its lease to `now + leaseMs`. A lease
 * already past is expired in the same transaction (its capacity returns) and reported afterwards, so the
 * expiry is recorded even though the call fails. A live lease takes one statement ({@link touchLiveLease}).
 */
async function touchLease(
  db: Database,
  operation: string,
  key: string,
  event: ReservationEvent,
  leaseMs: number,
  nowOrDb: Date | undefined,
): Promise<Allocation> {
  checkId('key', key);
  if (!Number.isFinite(leaseMs) || leaseMs <= 0)
    throw new InvalidLedgerArgumentError('leaseMs', leaseMs, 'a finite number > 0');
  const held = await touchLiveLease(db, operation, key, event, leaseMs, nowOrDb);
  if (held !== undefined) return held;
  type Outcome = { expiredAt: Date } | { allocation: Allocation };
  const outcome = await inTransaction(db, operation, async (client): Promise<Outcome> => {
    const now = nowOrDb ?? (await databaseNow(client));
    const row = await lockReservation(client, key);
    if (row.state === 'expired') return { expiredAt: row.lease_expires_at ?? row.ended_at ?? now };
    const lease = row.lease_expires_at;
    if (
      (row.state === 'granted' || row.state === 'running') &&
      lease !== null &&
      lease.getTime() <= now.getTime()
    ) {
      // Recorded by the same statement (execution data): its worker stopped renewing.
      await client.query(
        recordingEnded(
          `UPDATE qm_reservations SET state = 'expired', ended_at = $2, updated_at = $2 WHERE key = $1
           RETURNING *, 'expired'::text AS outcome`,
          'SELECT 1',
        ),
        [key, now],
      );
      return { expiredAt: lease };
    }
    // A pending request's lease is renewed by its waiter (renewPendingMany), never as a held lease.
    if (row.state === 'pending') throw new IllegalTransitionError(row.state, event, key);
    // A successor still behind its predecessor may not start: its lease is renewed, its state kept.
    const state =
      row.state === 'granted' && (row.behind ?? null) !== null
        ? row.state
        : transition(row.state, event, key);
    const leaseExpiresAt = new Date(now.getTime() + leaseMs);
    const { rows } = await client.query<TouchColumns>(
      `UPDATE qm_reservations
          SET state = $2, lease_expires_at = $3, updated_at = $4,
              started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, $4) ELSE started_at END
        WHERE key = $1
       RETURNING offer_to, offer_for, offered_at, behind`,
      [key, state, leaseExpiresAt, now],
    );
    const allocation = heldAllocation(
      key,
      state,
      row.node_id as string,
      row.granted as ResourceVector,
      leaseExpiresAt,
      leaseMs,
      rows[0],
    );
    return { allocation };
  });
  if ('expiredAt' in outcome) throw new LeaseExpiredError(key, outcome.expiredAt);
  return outcome.allocation;
}

/**
 * Extends the lease of a granted or running reservation to `now + leaseMs` and returns what it holds now
 * and any shrink offer waiting for its answer (the heartbeat's way to learn of one).
 * @throws LeaseExpiredError when the lease had already ended (it is then `expired`; request again);
 *   IllegalTransitionError for a pending, released or cancelled reservation; UnknownReservationError;
 *   InvalidLedgerArgumentError for a non-positive `leaseMs`; DatabaseUnavailableError.
 */
export async function renewLease(
  db: Database,
  key: string,
  leaseMs: number,
  now?: Date,
): Promise<Allocation> {
  return touchLease(db, 'renew lease', key, 'renew', leaseMs, now);
}

/**
 * Marks a granted reservation running (idempotent for a running one) and extends its lease to `now + leaseMs`.
 * @throws the same errors as {@link renewLease}.
 */
export async function markRunning(
  db: Database,
  key: string,
  leaseMs: number,
  now?: Date,
): Promise<Allocation> {
  return touchLease(db, 'start reservation', key, 'start', leaseMs, now);
}

const RELEASE_OUTCOMES: readonly ReleaseOutcome[] = ['completed', 'failed', 'cancelled'];

/** The states a release ends (the lifecycle's moves on `release` that change the state). */
const RELEASABLE: readonly ReservationState[] = (Object.keys(TRANSITIONS) as ReservationState[]).filter(
  (from) => {
    const to = TRANSITIONS[from].release;
    return to !== undefined && to !== from;
  },
);

/**
 * Releases a reservation: its capacity returns at once. The same statement records the attempt (execution
 * data: `options.outcome`, see {@link ReleaseOptions}) and, when it completed, refreshes its stage key's
 * learned run time: one round trip in all (a retried release costs a second one, to read the state it has).
 * Idempotent: releasing an ended reservation (released, expired, cancelled) changes and records nothing and
 * reports `changed: false`. A pending one is withdrawn.
 * @throws UnknownReservationError for a key never requested; InvalidLedgerArgumentError for an unknown
 *   `options.outcome`; DatabaseUnavailableError.
 */
export async function releaseReservation(
  db: Database,
  key: string,
  now?: Date,
  options: ReleaseOptions = {},
): Promise<ReleaseResult> {
  checkId('key', key);
  if (options.outcome !== undefined && !RELEASE_OUTCOMES.includes(options.outcome))
    throw new InvalidLedgerArgumentError('outcome', options.outcome, `one of ${RELEASE_OUTCOMES.join(', ')}`);
  return inStatement(db, 'release reservation', async (pool) => {
    // One statement: end it when it is live (the row lock orders it against any concurrent change), record it.
    const { rows } = await pool.query<{ changed: boolean; pending: boolean }>(
      named(
        'qm-release',
        recordingEnded(
          `UPDATE qm_reservations
              SET state = 'released', ended_at = coalesce($2::timestamptz, now()),
                  updated_at = coalesce($2::timestamptz, now())
            WHERE key = $1 AND state = ANY($5::text[])
           RETURNING *, CASE WHEN $4::boolean
                             THEN coalesce($3::text, CASE WHEN started_at IS NULL THEN 'cancelled'
                                                          ELSE 'completed' END) END AS outcome`,
          `SELECT EXISTS (SELECT 1 FROM ended) AS changed,
                  EXISTS (SELECT 1 FROM qm_reservations WHERE state = 'pending') AS pending`,
        ),
        [key, now ?? null, options.outcome ?? null, options.record !== false, RELEASABLE],
      ),
    );
    if (rows[0]?.changed === true)
      return { key, state: 'released' as const, changed: true, pending: rows[0].pending };
    // Nothing was live: a retried release (or a key never requested).
    const current = await pool.query<{ state: ReservationState }>(
      'SELECT state FROM qm_reservations WHERE key = $1',
      [key],
    );
    const state = current.rows[0]?.state;
    if (state === undefined) throw new UnknownReservationError(key);
    return { key, state, changed: false, pending: false };
  });
}

/**
 * Cancels every pending, granted or running reservation of `workflowId` (the workflow was cancelled or
 * terminated); held capacity returns at once. Each is recorded `cancelled` by the same statement.
 * @returns the keys cancelled, sorted (empty on a retry).
 * @throws DatabaseUnavailableError.
 */
export async function cancelWorkflowReservations(
  db: Database,
  workflowId: string,
  now: Date,
): Promise<string[]> {
  checkId('workflowId', workflowId);
  try {
    const { rows } = await db.pool.query<{ key: string }>(
      recordingEnded(
        `UPDATE qm_reservations
            SET state = 'cancelled', ended_at = $2, updated_at = $2
          WHERE workflow_id = $1 AND state IN ('pending', 'granted', 'running')
         RETURNING *, 'cancelled'::text AS outcome`,
        'SELECT key FROM ended',
      ),
      [workflowId, now],
    );
    return rows.map((r) => r.key).sort();
  } catch (err) {
    throw translateDbError(err, 'cancel workflow reservations');
  }
}
