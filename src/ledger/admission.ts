import type { Database } from './db';
import { inTransaction } from './db';
import { decisionChannel } from './channels';
import { commitDecisionsIn, type GrantDecision } from './commit';
import { recordingEnded } from './executions';
import { translateDbError } from './errors';
import { checkRequest, insertRequestIn, RESERVATION_SELECT, type ReservationRequest } from './reservations';
import { toReservation, type ReservationRow } from './rows';
import { snapshotIn, type LedgerSnapshot } from './snapshot';
import type { ReservationRecord, ShardOrder } from './types';
import { checkId } from './vectors';

/**
 * What the fast path decides for a request that is alone in the queue: a grant (committed in the same
 * transaction that recorded the request), a shard order, or nothing (it waits for the cycle).
 */
export type FastPathAnswer =
  { kind: 'grant'; decision: GrantDecision } | { kind: 'shard'; order: ShardOrder } | undefined;

/** Options of {@link requestAdmission}. */
export interface RequestAdmissionOptions {
  /** A node silent longer than this gets nothing, ms. */
  staleAfterMs: number;
  /**
   * The pure decision for a request alone in the queue, over a snapshot holding only that request (the
   * scheduling core). Absent: no fast path.
   */
  decide?: (snapshot: LedgerSnapshot) => FastPathAnswer;
  /**
   * Refuses a new request on the snapshot its transaction read (one no node could ever hold): the error
   * returned is thrown, and the transaction rolls back, so nothing is written. Absent: every request is taken.
   */
  refuse?: (snapshot: LedgerSnapshot) => Error | undefined;
  /**
   * `decide` may grant behind an active grant (successor grants): a request alone in the queue that nothing
   * free could hold is decided again on a snapshot with the active grants. @default false
   */
  successors?: boolean;
}

/** Where a request stands, as its waiter sees it. */
export interface AdmissionState {
  /** The reservation now. */
  reservation: ReservationRecord;
  /** True when this call recorded it (false: it existed, e.g. a retried activity). */
  created: boolean;
  /** True when the fast path granted or sharded it in the same transaction. */
  fastPath: boolean;
  /**
   * Recorded while others wait: whether the pure cycle would grant (or shard) it were it alone, on what is free
   * now — when not, no cycle could admit it before capacity returns (and whatever returns capacity runs one).
   * Absent when not asked (no `decide`), or when the request existed and is no longer pending.
   */
  fitsAlone?: boolean;
  /** Granted by the fast path: its node's task queue (the grant's lease started in this transaction). */
  nodeTaskQueue?: string;
}

/**
 * Records a stage's request with a lease on the database's clock and, when no other live request is
 * pending, decides it at once in the same transaction (the cycle would anyway): an uncontended stage pays
 * one transaction for admission. When others are pending it says whether the request would fit alone
 * (`fitsAlone`), from the same bounded snapshot. Reads a bounded number of rows whatever the queue length:
 * the "alone" check is one indexed probe, the fast path's snapshot holds nodes, pools and this request only
 * (and, for a request alone that nothing free holds, with `successors`, the active grants it could follow).
 * Nothing is locked but the rows a grant's commit re-checks capacity under: of simultaneous requests that
 * each find themselves alone, every one that still fits at its commit is granted, the others wait. A retried
 * call (same key) renews a pending request's lease and returns it as it is.
 * @throws InvalidLedgerArgumentError / InvalidQuantityError for a bad request (nothing written);
 *   UnknownPoolError; what `refuse` returns (nothing written); DatabaseUnavailableError.
 */
export async function requestAdmission(
  db: Database,
  input: ReservationRequest,
  options: RequestAdmissionOptions,
): Promise<AdmissionState> {
  const r = checkRequest(input);
  return inTransaction(db, 'request admission', async (client) => {
    const { reservation, created, now } = await insertRequestIn(client, r);
    if (options.decide === undefined) return { reservation, created, fastPath: false };
    if (!created) {
      // Asked again (the waiting activity after the fast path, a retry): only whether it would fit alone.
      if (reservation.state !== 'pending') return { reservation, created, fastPath: false };
      const snap = await snapshotIn(client, now, { staleAfterMs: options.staleAfterMs, onlyPending: r.key });
      return { reservation, created, fastPath: false, fitsAlone: options.decide(snap) !== undefined };
    }
    const othersPending = async (): Promise<boolean> => {
      const { rows } = await client.query<{ busy: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM qm_reservations
                         WHERE state = 'pending' AND key <> $1 AND lease_expires_at > now()) AS busy`,
        [r.key],
      );
      return rows[0]?.busy !== false;
    };
    // Nothing is locked: the grant is re-checked under the node's (and pools') row locks at the commit, which
    // counts every grant committed before it. Two requests recorded at the same instant cannot see each other
    // (neither insert is committed), so no lock could order them; an advisory lock here only queued every
    // request that found itself alone behind the others (46 ms each on average in a burst).
    const busy = await othersPending();
    const snap = await snapshotIn(client, now, { staleAfterMs: options.staleAfterMs, onlyPending: r.key });
    const refusal = options.refuse?.(snap);
    if (refusal !== undefined) throw refusal;
    let answer = options.decide(snap);
    if (busy) return { reservation, created, fastPath: false, fitsAlone: answer !== undefined };
    // Alone, and nothing free holds it: it may still be granted behind a grant that ends soon (a successor
    // grant, when `decide` makes them), on the active grants read now — bounded by what the nodes hold.
    let view = snap;
    if (answer === undefined && options.successors === true) {
      view = await snapshotIn(client, now, {
        staleAfterMs: options.staleAfterMs,
        onlyPending: r.key,
        withActive: true,
      });
      answer = options.decide(view);
    }
    if (answer === undefined) return { reservation, created, fastPath: false, fitsAlone: false };
    if (answer.kind === 'grant') {
      const result = await commitDecisionsIn(client, db.schema, [answer.decision], now, {
        staleAfterMs: options.staleAfterMs,
        records: true,
      });
      // Another request took the capacity since the snapshot: it would have fitted; the cycle decides now.
      const grant = result.granted[0];
      if (grant?.record === undefined) return { reservation, created, fastPath: false, fitsAlone: true };
      const nodeTaskQueue = view.nodes.find((n) => n.id === grant.nodeId)?.taskQueue;
      return {
        reservation: grant.record,
        created,
        fastPath: true,
        ...(nodeTaskQueue === undefined ? {} : { nodeTaskQueue }),
      };
    }
    const { rows: after } = await client.query<ReservationRow>(
      `UPDATE qm_reservations SET shard_order = $2 WHERE key = $1 AND state = 'pending' RETURNING ${RESERVATION_SELECT}`,
      [r.key, JSON.stringify(answer.order)],
    );
    return { reservation: toReservation(after[0] as ReservationRow), created, fastPath: true };
  });
}

/** A waiter's request as {@link renewPendingMany} found it. */
export interface WaiterView {
  /** The reservation as it is now. */
  reservation: ReservationRecord;
  /** It was granted with a live lease and this renewal took the grant up (as {@link takeGrant} does). */
  takenUp: boolean;
  /** Task queue of the node it is granted (or runs) on; null when it holds none. */
  nodeTaskQueue: string | null;
}

/**
 * The waiters' look at their requests: renews the lease of each pending one (its waiter is alive), takes each
 * granted one up (a whole lease from now, as {@link takeGrant}: its waiter returns it to the workflow at once),
 * and returns the reservations as they are, with their node's task queue. One statement whatever their number
 * (the admission worker's waiters share it through `PendingRenewals`, so 1,000 waiting stages cost about one
 * query per re-check period, not 1,000; and a waiter woken by its grant needs no other query to return it).
 * @returns key → its view; keys never requested are absent.
 * @throws DatabaseUnavailableError.
 */
export async function renewPendingMany(
  db: Database,
  keys: readonly string[],
  leaseMs: number,
): Promise<Map<string, WaiterView>> {
  for (const key of keys) checkId('key', key);
  const out = new Map<string, WaiterView>();
  if (keys.length === 0) return out;
  try {
    const { rows } = await db.pool.query<
      ReservationRow & { taken_up: boolean; node_task_queue: string | null }
    >(
      `UPDATE qm_reservations
          SET lease_expires_at = CASE
                WHEN state = 'pending' THEN now() + $2 * interval '1 millisecond'
                WHEN state = 'granted' AND lease_expires_at > now()
                  THEN greatest(lease_expires_at, now() + $2 * interval '1 millisecond')
                ELSE lease_expires_at END,
              updated_at = CASE WHEN state = 'granted' AND lease_expires_at > now() THEN now() ELSE updated_at END
        WHERE key = ANY($1::text[])
       RETURNING ${RESERVATION_SELECT},
                 state = 'granted' AND lease_expires_at > now() AS taken_up,
                 (SELECT n.task_queue FROM qm_nodes n WHERE n.id = qm_reservations.node_id) AS node_task_queue`,
      [keys, leaseMs],
    );
    for (const row of rows) {
      const reservation = toReservation(row);
      out.set(reservation.key, { reservation, takenUp: row.taken_up, nodeTaskQueue: row.node_task_queue });
    }
    return out;
  } catch (err) {
    throw translateDbError(err, 'renew pending requests');
  }
}

/**
 * Takes a grant up: extends a `granted` reservation's lease to a whole lease from the database's now, so
 * its stage has that long to start on its node. One statement, which also returns the node's task queue.
 * @returns the reservation and its node's task queue, or undefined when it is no longer granted with a live
 *   lease (it expired, or it was released: ask again).
 * @throws DatabaseUnavailableError.
 */
export async function takeGrant(db: Database, key: string, leaseMs: number): Promise<WaiterView | undefined> {
  checkId('key', key);
  try {
    const { rows } = await db.pool.query<ReservationRow & { node_task_queue: string | null }>(
      `UPDATE qm_reservations
          SET lease_expires_at = greatest(lease_expires_at, now() + $2 * interval '1 millisecond'),
              updated_at = now()
        WHERE key = $1 AND state = 'granted' AND lease_expires_at > now()
       RETURNING ${RESERVATION_SELECT},
                 (SELECT n.task_queue FROM qm_nodes n WHERE n.id = qm_reservations.node_id) AS node_task_queue`,
      [key, leaseMs],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { reservation: toReservation(row), takenUp: true, nodeTaskQueue: row.node_task_queue };
  } catch (err) {
    throw translateDbError(err, 'take grant');
  }
}

/** Options of {@link raiseWake}. */
export interface RaiseWakeOptions {
  /** Raise it only when some request is pending (after a release). @default false */
  onlyIfPending?: boolean;
  /**
   * The scheduler counts as stale (maybe not running: the caller's signal-with-start then starts it) when none
   * of its own cycles began for this long, ms.
   */
  schedulerStaleMs: number;
}

/** What {@link raiseWake} found. */
export interface WakeState {
  /** The wake flag is up (false only with `onlyIfPending` when nothing is pending: no cycle is needed). */
  raised: boolean;
  /** This call raised it (it was down): the one caller that signals the scheduler, when one is to. */
  flipped: boolean;
  /**
   * No scheduler cycle began within `schedulerStaleMs` and no caller was told so within it either: this caller
   * should signal (and so start) it. At most one caller per period is told.
   */
  schedulerStale: boolean;
}

/**
 * Says a cycle is needed: raises the ledger's wake flag (one row), which every cycle clears as it begins
 * ({@link beginCycle}) and reads again once it ended ({@link wakePending}), so a change made while a cycle ran
 * is never left undecided. Concurrent callers serialise on the row: exactly one of them sees `flipped`, which
 * is what deduplicates wake signals (at most one outstanding).
 * @throws DatabaseUnavailableError.
 */
export async function raiseWake(db: Database, options: RaiseWakeOptions): Promise<WakeState> {
  try {
    const { rows } = await db.pool.query<{ was: boolean; stale: boolean }>(
      `WITH old AS (
         SELECT wake_requested AS was,
                (last_cycle_at IS NULL OR last_cycle_at < now() - $1 * interval '1 millisecond')
                AND (stale_signalled_at IS NULL OR stale_signalled_at < now() - $1 * interval '1 millisecond')
                  AS stale
           FROM qm_scheduler WHERE id = 1 FOR UPDATE)
       UPDATE qm_scheduler SET wake_requested = true, queue_changed = true,
              stale_signalled_at = CASE WHEN old.stale THEN now() ELSE stale_signalled_at END
         FROM old
        WHERE id = 1
          AND (NOT $2::boolean OR EXISTS (SELECT 1 FROM qm_reservations WHERE state = 'pending'))
       RETURNING old.was, old.stale`,
      [options.schedulerStaleMs, options.onlyIfPending ?? false],
    );
    const row = rows[0];
    return { raised: row !== undefined, flipped: row?.was === false, schedulerStale: row?.stale === true };
  } catch (err) {
    throw translateDbError(err, 'raise scheduler wake');
  }
}

/** Whether a cycle refreshes the waiting queue (wait notes, estimates, the `queue` query). */
export type QueueRefresh = 'always' | 'if-changed' | 'never';

/** What a cycle starts from: the database's now and the keys the previous cycle held capacity for. */
export interface CycleStart {
  /** The cycle's time (the database's clock). */
  now: Date;
  /** The previous cycle's holders (stable holds). */
  holders: string[];
  /** This cycle refreshes the queue: asked `always`, or `if-changed` and a request or release came since. */
  refresh: boolean;
}

/**
 * Starts a scheduling cycle (the caller holds the cycle lock): clears the wake flag and returns the database's
 * now (the cycle's time), the previous cycle's holders and whether to refresh the queue (clearing the
 * queue-changed flag when so). The scheduler's own cycles (`byScheduler`) also stamp the time, which tells
 * requesters it is alive; a cycle run inline by a release or request does not.
 * @throws DatabaseUnavailableError.
 */
export async function beginCycle(
  db: Database,
  byScheduler = true,
  refresh: QueueRefresh = 'never',
): Promise<CycleStart> {
  try {
    const { rows } = await db.pool.query<{ now: Date; holders: unknown; refresh: boolean }>(
      `WITH old AS (SELECT queue_changed AS changed FROM qm_scheduler WHERE id = 1 FOR UPDATE),
            asked AS (SELECT $2::text = 'always' OR ($2::text = 'if-changed' AND old.changed) AS refresh FROM old)
       UPDATE qm_scheduler SET wake_requested = false,
              last_cycle_at = CASE WHEN $1::boolean THEN now() ELSE last_cycle_at END,
              queue_changed = queue_changed AND NOT asked.refresh
         FROM asked
        WHERE id = 1
       RETURNING now() AS now, holders, asked.refresh AS refresh`,
      [byScheduler, refresh],
    );
    const row = rows[0] as { now: Date; holders: unknown; refresh: boolean };
    const holders = Array.isArray(row.holders)
      ? row.holders.filter((k): k is string => typeof k === 'string')
      : [];
    return { now: row.now, holders, refresh: row.refresh === true };
  } catch (err) {
    throw translateDbError(err, 'begin cycle');
  }
}

/**
 * Records the keys this cycle held capacity for, for the next cycle.
 * @throws DatabaseUnavailableError.
 */
export async function recordHolders(db: Database, holders: readonly string[]): Promise<void> {
  try {
    await db.pool.query(`UPDATE qm_scheduler SET holders = $1::jsonb WHERE id = 1`, [
      JSON.stringify(holders),
    ]);
  } catch (err) {
    throw translateDbError(err, 'record holders');
  }
}

/**
 * True when a wake arrived since the cycle began (the scheduler should run another cycle at once).
 * @throws DatabaseUnavailableError.
 */
export async function wakePending(db: Database): Promise<boolean> {
  try {
    const { rows } = await db.pool.query<{ w: boolean }>(
      `SELECT wake_requested AS w FROM qm_scheduler WHERE id = 1`,
    );
    return rows[0]?.w === true;
  } catch (err) {
    throw translateDbError(err, 'read wake flag');
  }
}

/**
 * Expires every live reservation whose lease ended (on the database's clock, or at `now` when given):
 * granted and running ones return their capacity; pending ones leave the queue (their requester is gone).
 * Their waiters, if any are alive, are told on the decision channel. Each is recorded `expired` (execution
 * data) by the same statement: an attempt whose worker died is never lost.
 * @returns the keys expired, sorted.
 * @throws DatabaseUnavailableError.
 */
export async function expireLapsed(db: Database, now?: Date): Promise<string[]> {
  try {
    const { rows } = await db.pool.query<{ key: string }>(
      recordingEnded(
        `UPDATE qm_reservations r
            SET state = 'expired', ended_at = t.at, updated_at = t.at
           FROM (SELECT coalesce($1::timestamptz, now()) AS at) t
          -- Spelled as two predicates so each partial index serves one (an IN over the three live states
          -- made PostgreSQL scan every ended row: this runs every cycle).
          WHERE ((r.state = 'pending' AND r.lease_expires_at <= t.at)
                 OR (r.state IN ('granted', 'running') AND r.lease_expires_at <= t.at))
         RETURNING r.*, 'expired'::text AS outcome`,
        'SELECT key, pg_notify($2, key) FROM ended',
      ),
      [now ?? null, decisionChannel(db.schema)],
    );
    return rows.map((r) => r.key).sort();
  } catch (err) {
    throw translateDbError(err, 'expire leases');
  }
}

/**
 * Withdraws every request of one stage attempt that has not started running (`baseKey` and its renewals
 * `baseKey~n`): the workflow was cancelled while waiting. A pending or granted row becomes `released` (its
 * waiter then stops instead of asking again); a running one is left to its handler. Each is recorded
 * `cancelled` (execution data) by the same statement.
 * @returns the keys withdrawn.
 * @throws DatabaseUnavailableError.
 */
export async function withdrawAttempt(db: Database, baseKey: string): Promise<string[]> {
  checkId('baseKey', baseKey);
  try {
    const { rows } = await db.pool.query<{ key: string }>(
      recordingEnded(
        `UPDATE qm_reservations SET state = 'released', ended_at = now(), updated_at = now()
          WHERE (key = $1 OR left(key, length($1) + 1) = $1 || '~') AND state IN ('pending', 'granted')
         RETURNING *, 'cancelled'::text AS outcome`,
        'SELECT key, pg_notify($2, key) FROM ended',
      ),
      [baseKey, decisionChannel(db.schema)],
    );
    return rows.map((r) => r.key).sort();
  } catch (err) {
    throw translateDbError(err, 'withdraw attempt');
  }
}
