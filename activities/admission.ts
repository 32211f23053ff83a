import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  FAST_PATH_HOLDER_WAIT_MS,
  MAX_WAIT_REASON_UPDATES,
  SHRINK_OFFER_TTL_MS,
  SUCCESSOR_HORIZON_MS,
  WAIT_REASON_FIRST_AFTER_MS,
  WAIT_REASON_MIN_INTERVAL_MS,
  WAIT_RECHECK_MS,
} from '../src/admission/constants';
import { isEnded, nextRequestKey } from '../src/admission/lifecycle';
import { admissionProgressSignal } from '../src/admission/messages';
import type { AdmissionDecision, AdmissionProgress, AdmissionRequest } from '../src/admission/types';
import {
  requestAdmission,
  takeGrant,
  withdrawAttempt,
  type AdmissionState,
  type FastPathAnswer,
  type RequestAdmissionOptions,
  type WaiterView,
} from '../src/ledger/admission';
import type { Database } from '../src/ledger/db';
import type { LazyDatabase } from '../src/ledger/lazy';
import { getNode } from '../src/ledger/nodes';
import {
  releaseReservation as ledgerRelease,
  type ReleaseOutcome,
  type ReservationRequest,
} from '../src/ledger/reservations';
import type { LedgerSnapshot } from '../src/ledger/snapshot';
import type { ReservationRecord } from '../src/ledger/types';
import type { SchedulerConfig } from '../src/scheduling/config';
import { runCycle } from '../src/scheduling/cycle';
import type { ShardRequestSpec } from '../src/scheduling/types';
import { toLedgerGrant } from '../src/admission/ledger-cycle';
import { isolateBadRows, successorTails, toClusterSnapshot } from '../src/admission/cluster-snapshot';
import { assignSuccessors } from '../src/scheduling/successors';
import {
  handOff,
  markQueueChanged,
  type HandOffCycleOptions,
  type HandOffResult,
  type SchedulerAddress,
} from './wake';
import { PendingRenewals } from '../src/ledger/renewal-batch';
import { unsatisfiableResource, UnsatisfiableRequestError } from '../src/capacity/ever-fits';
import { capacityCeiling } from '../src/ledger/capacity-ceiling';

/** Input of the `releaseReservation` activity. */
export interface ReleaseReservationInput {
  /** The reservation to release. */
  key: string;
  /** How the attempt ended, for its execution record. @default see `releaseReservation` */
  outcome?: ReleaseOutcome;
}

/** What the admission activities need. */
export interface AdmissionActivityDependencies {
  /** The ledger. */
  ledger: LazyDatabase;
  /** Scoring weights and cycle options (the fast path runs the same core as the cycle). */
  config: SchedulerConfig;
  /** The singleton scheduler, to wake (and start) it. */
  scheduler: SchedulerAddress;
  /** Lease of a request, ms. */
  leaseMs: number;
  /** A node silent for longer is stale, ms. */
  staleAfterMs: number;
  /** How often a waiter re-reads its row when no notification came, ms. @default min(WAIT_RECHECK_MS, leaseMs / 3) */
  recheckMs?: number;
  /** An unanswered shrink offer is cleared after this long (a release's inline cycle expires them), ms. @default SHRINK_OFFER_TTL_MS */
  shrinkOfferTtlMs?: number;
  /** Successor grants' horizon, ms (0: none). @default SUCCESSOR_HORIZON_MS */
  successorHorizonMs?: number;
}

function shardSpecRecord(spec: ShardRequestSpec): NonNullable<ReservationRequest['shardSpec']> {
  return {
    maxShards: spec.maxShards,
    ...(spec.itemCount === undefined ? {} : { itemCount: spec.itemCount }),
    ...(spec.minItemsPerShard === undefined ? {} : { minItemsPerShard: spec.minItemsPerShard }),
    ...(spec.perShardFloor === undefined ? {} : { perShardFloor: { ...spec.perShardFloor } }),
  };
}

function isReduced(r: ReservationRecord): boolean {
  return Object.entries(r.desired).some(([k, v]) => (r.granted?.[k] ?? 0) < v - 1e-9);
}

/**
 * The non-retryable failure of a request no registered node (or pool) could ever hold, judged on the snapshot
 * its admission transaction read, or undefined.
 */
function unsatisfiable(req: AdmissionRequest, snapshot: LedgerSnapshot): ApplicationFailure | undefined {
  const problem = unsatisfiableResource(
    {
      minimum: req.minimum,
      desired: req.desired,
      ...(req.shard === undefined ? {} : { shard: req.shard }),
      waitForLargerNodes: req.waitForLargerNodes,
    },
    capacityCeiling(snapshot),
  );
  if (problem === undefined) return undefined;
  const err = new UnsatisfiableRequestError(req.stageId, problem);
  return ApplicationFailure.create({
    message: err.message,
    type: err.name,
    nonRetryable: true,
    details: [problem],
  });
}

/** The ledger request of an admission request, under `key` (its own, or a renewal's). */
function reservationRequest(req: AdmissionRequest, key: string, leaseMs: number): ReservationRequest {
  const { shard, waitForLargerNodes: _larger, readySince, ...fields } = req;
  const since = readySince === undefined ? undefined : new Date(readySince);
  return {
    ...fields,
    ...(since !== undefined && Number.isFinite(since.getTime()) ? { requestedAt: since } : {}),
    key,
    leaseMs,
    ...(shard === undefined ? {} : { shardSpec: shardSpecRecord(shard) }),
  };
}

/** A waiter's view before any renewal (or after one that found nothing): no grant taken up, no node known. */
const NOTHING_TAKEN_UP: Omit<WaiterView, 'reservation'> = { takenUp: false, nodeTaskQueue: null };

/** The workflow's answer for a grant taken up (or already running), on its node's task queue. */
async function grantDecision(
  db: Database,
  key: string,
  { reservation: taken, nodeTaskQueue }: WaiterView,
  fast: boolean,
): Promise<AdmissionDecision> {
  return {
    kind: 'grant',
    key,
    nodeId: taken.nodeId as string,
    taskQueue: nodeTaskQueue ?? (await getNode(db, taken.nodeId as string)).taskQueue,
    granted: taken.granted ?? {},
    reduced: isReduced(taken),
    fast,
    waitSeconds:
      taken.grantedAt === null ? 0 : (taken.grantedAt.getTime() - taken.requestedAt.getTime()) / 1000,
  };
}

/**
 * The admission activities: `awaitReservation` (a stage attempt's whole wait, in one heartbeating activity)
 * and `releaseReservation`. Thin adapters over `src/ledger` and the scheduling core.
 */
export function createAdmissionActivities(deps: AdmissionActivityDependencies) {
  // Several re-checks fit in a lease whatever the lease (tests use short ones).
  const recheckMs = deps.recheckMs ?? Math.min(WAIT_RECHECK_MS, deps.leaseMs / 3);
  // Every waiter of this worker renews through one batch: one statement per re-check period, not per waiter.
  const batches = new WeakMap<Database, PendingRenewals>();
  const renewals = (db: Database): PendingRenewals => {
    let b = batches.get(db);
    if (b === undefined) {
      b = new PendingRenewals(db, deps.leaseMs, Math.min(1000, recheckMs / 2));
      batches.set(db, b);
    }
    return b;
  };

  const horizonMs = deps.successorHorizonMs ?? SUCCESSOR_HORIZON_MS;
  /**
   * The fast path: the same pure cycle the scheduler runs, on a snapshot holding only this request — and, on
   * one with the active grants too, its successor pass (granted behind a grant that ends within the horizon).
   */
  const decide = (snap: LedgerSnapshot): FastPathAnswer => {
    const { result } = isolateBadRows(toClusterSnapshot(snap), (c) => {
      const decided = runCycle(c, snap.now, deps.config);
      return snap.active.length === 0
        ? decided
        : assignSuccessors(c, decided, snap.now, horizonMs, successorTails(snap));
    });
    const d = result.decisions[0];
    const entry = result.queue[0];
    if (d?.kind === 'grant') return { kind: 'grant', decision: toLedgerGrant(d, entry, deps.leaseMs) };
    if (d?.kind === 'shard')
      return { kind: 'shard', order: { shardCount: d.shardCount, perShard: d.perShard } };
    return undefined;
  };
  /**
   * How a stage's request is admitted, by its fast path and by its waiter alike: decided at once when it can be,
   * refused inside the transaction when no registered node (or pool) could ever hold it (nothing written).
   */
  const admission = (req: AdmissionRequest): RequestAdmissionOptions => ({
    staleAfterMs: deps.staleAfterMs,
    decide,
    refuse: (snap) => unsatisfiable(req, snap),
    successors: horizonMs > 0,
  });

  /**
   * Runs the scheduler's cycle here, now, unless another one runs (see {@link handOff}): after capacity returned
   * (`onlyIfPending`: only when something waits for it) or a request started waiting.
   */
  const cycle: HandOffCycleOptions = {
    config: deps.config,
    leaseMs: deps.leaseMs,
    staleAfterMs: deps.staleAfterMs,
    shrinkOfferTtlMs: deps.shrinkOfferTtlMs ?? SHRINK_OFFER_TTL_MS,
    ...(deps.successorHorizonMs === undefined ? {} : { successorHorizonMs: deps.successorHorizonMs }),
  };
  const cycleHere = async (db: Database, onlyIfPending: boolean): Promise<HandOffResult> => {
    const ctx = Context.current();
    const done = await handOff(db, ctx.client, deps.scheduler, cycle, onlyIfPending);
    if (done.error !== undefined) ctx.log.warn('inline cycle failed', { error: done.error });
    return done;
  };
  /** Says the queue changed without running a cycle (see {@link noteWaiting}). */
  const noteWaiting = async (db: Database): Promise<void> => {
    const ctx = Context.current();
    await markQueueChanged(db, ctx.client, deps.scheduler).catch((err: unknown) =>
      ctx.log.warn('could not raise the wake flag', { error: String(err) }),
    );
  };
  /** Hands returned capacity to the waiting queue at once. */
  const handOffReleased = async (db: Database): Promise<void> => {
    await cycleHere(db, true);
  };

  /**
   * The fast path, run as a local activity inside the workflow task that reaches the stage: records the
   * request and, when it is alone in the queue and fits, grants it in the same transaction and takes the grant
   * up; when others wait but it would fit on what is free, runs the scheduler's cycle here (see `handOff`) and
   * takes the grant if the cycle made one. Such a stage is then admitted without an activity of its own or the
   * workflow task that would follow it: its `runStage` is scheduled by the same workflow task. Anything else (it waits, it is to be
   * sharded, it could never fit) returns null, and `awaitReservation` takes the same request over (same key:
   * recording it again returns it as it is). Idempotent, so a retried workflow task may run it again.
   * @throws the ledger's errors (the workflow then falls back to `awaitReservation`, which reports them).
   */
  async function requestFastPath(req: AdmissionRequest): Promise<AdmissionDecision | null> {
    const db = await deps.ledger.get();
    let state: AdmissionState;
    try {
      state = await requestAdmission(db, reservationRequest(req, req.key, deps.leaseMs), admission(req));
    } catch (err) {
      // A request refused for good (no node could ever hold it, an undeclared pool): nothing was written, and
      // the waiting activity reports it. Anything else is this local activity's failure (the waiter asks again).
      if (err instanceof ApplicationFailure && err.nonRetryable) return null;
      if ((err as { retryable?: unknown }).retryable === false) return null;
      throw err;
    }
    const r = state.reservation;
    if (r.state === 'pending' && r.shardOrder === null) {
      // Nothing free could hold it even alone: no cycle could admit it now (whatever frees capacity runs one);
      // its waiter says the queue changed.
      if (state.fitsAlone === false) return null;
      // Others wait too, but this one would fit on what is free now (or it was alone and lost a race for the
      // capacity): run the cycle here (it admits by score, so nobody is overtaken) and take the grant if it
      // made one; when another cycle holds the lock, give it a moment (it runs again for the flag this raised,
      // and announces its grants). When the node is not the limit, a burst of stages is admitted this way with
      // no waiting activity (and no workflow task after one).
      const sub = await db.decisions.subscribe(req.key);
      try {
        const done = await cycleHere(db, false);
        if (done.cycles === 0 && done.error === undefined) await sub.next(FAST_PATH_HOLDER_WAIT_MS);
      } finally {
        sub.close();
      }
      const taken = await takeGrant(db, req.key, deps.leaseMs);
      return taken === undefined ? null : grantDecision(db, req.key, taken, false);
    }
    if (r.state === 'running')
      return grantDecision(db, req.key, { ...NOTHING_TAKEN_UP, reservation: r }, state.fastPath);
    if (r.state !== 'granted') return null;
    // Granted in that transaction: its lease is a whole one already, and its node's task queue is known.
    if (state.nodeTaskQueue !== undefined)
      return grantDecision(
        db,
        req.key,
        { reservation: r, takenUp: true, nodeTaskQueue: state.nodeTaskQueue },
        true,
      );
    const taken = await takeGrant(db, req.key, deps.leaseMs);
    return taken === undefined ? null : grantDecision(db, req.key, taken, state.fastPath);
  }

  /**
   * A stage attempt's admission, start to end, in one activity: records the request (granted at once when
   * it is alone and fits), runs a scheduling cycle at once unless one runs (see `handOff`), then waits — heartbeating, renewing its pending lease,
   * woken by the ledger's NOTIFY and re-checking every few seconds — until it is granted (the grant's lease
   * is renewed as it is taken up) or told to shard (the request is withdrawn). A request that ended before
   * it ran (its lease lapsed while the database was away, a grant that lapsed) is asked again with a fresh
   * key. Tells the workflow why it waits a bounded number of times, once the wait lasted a few seconds. Cancelled (or its workflow gone): it
   * withdraws its request.
   * @throws `UnsatisfiableRequestError` (non-retryable) when no registered node or pool could ever hold the
   *   request (unless it may wait for larger nodes); the ledger's non-retryable errors for a bad request or
   *   unknown pool; `RequestWithdrawnError` when its workflow withdrew it; CancelledFailure.
   */
  async function awaitReservation(req: AdmissionRequest): Promise<AdmissionDecision> {
    const ctx = Context.current();
    const db = await deps.ledger.get();
    const listener = db.decisions;
    const request = (key: string): ReservationRequest => reservationRequest(req, key, deps.leaseMs);
    let key = req.key;
    let sub = await listener.subscribe(key);
    let reasonUpdates = 0;
    let lastReason: string | null = null;
    let lastReasonAt = -Infinity;
    const waitingSince = performance.now();
    let fast = false;
    const ask = async (): Promise<ReservationRecord> => {
      // A request no registered node (or pool) could ever hold fails its stage at once, naming the resource
      // (refused inside the transaction: nothing is written).
      const state = await requestAdmission(db, request(key), admission(req));
      fast = state.fastPath;
      if (state.reservation.state === 'pending' && state.reservation.shardOrder === null) {
        // Nothing free could hold it even alone: no cycle could admit it now, and whatever frees capacity runs
        // one. Only say the queue changed (and start the scheduler if it seems down).
        if (state.fitsAlone === false) await noteWaiting(db);
        else await cycleHere(db, false);
      }
      return state.reservation;
    };
    const report = async (reason: string | null): Promise<void> => {
      if (reason === null || reason === lastReason || reasonUpdates >= MAX_WAIT_REASON_UPDATES) return;
      if (performance.now() - waitingSince < WAIT_REASON_FIRST_AFTER_MS) return;
      if (performance.now() - lastReasonAt < WAIT_REASON_MIN_INTERVAL_MS) return;
      lastReason = reason;
      lastReasonAt = performance.now();
      reasonUpdates += 1;
      const progress: AdmissionProgress = {
        stageId: req.stageId,
        attempt: req.attempt,
        reason,
        ...(req.shardIndex === undefined ? {} : { shardIndex: req.shardIndex }),
      };
      await ctx.client.workflow
        .getHandle(req.workflowId)
        .signal(admissionProgressSignal, progress)
        .catch(() => undefined);
    };
    try {
      // The fast path has usually recorded the request already, in the workflow task that reached the stage,
      // and run the cycle when it could fit: pick it up where it stands (one read shared with the other
      // waiters, which also takes a grant up) instead of asking again. Found pending, it only says the queue
      // changed (the fast path may have stopped before it could); never recorded, it is asked now.
      const found = await renewals(db).renew(key, true);
      // What the latest renewal found besides the row: a grant it took up, and its node's task queue.
      let renewed: Omit<WaiterView, 'reservation'> = found ?? NOTHING_TAKEN_UP;
      let r = found?.reservation ?? (await ask());
      if (found !== undefined && r.state === 'pending' && r.shardOrder === null) await noteWaiting(db);
      for (;;) {
        if (r.state === 'granted' || r.state === 'running') {
          const taken =
            r.state === 'running' || renewed.takenUp
              ? { ...renewed, reservation: r }
              : await takeGrant(db, key, deps.leaseMs);
          if (taken !== undefined) return grantDecision(db, key, taken, fast);
          r = { ...r, state: 'expired' };
        }
        if (r.state === 'pending' && r.shardOrder !== null) {
          // Withdrawn to become its shards: no attempt of its own (each shard's attempts are recorded).
          await ledgerRelease(db, key, undefined, { record: false });
          return {
            kind: 'shard',
            key,
            shardCount: r.shardOrder.shardCount,
            perShard: r.shardOrder.perShard,
            requestedAt: r.requestedAt.toISOString(),
            fast,
          };
        }
        if (r.state === 'released' || r.state === 'cancelled') {
          // Withdrawn (its workflow was cancelled while it waited): stop, never ask again.
          throw ApplicationFailure.nonRetryable(`request ${key} was withdrawn`, 'RequestWithdrawnError');
        }
        if (isEnded(r.state)) {
          // Ended before it ran (lapsed while we could not renew, or a grant nobody took up in time): ask
          // again with a fresh key; the stage loses nothing.
          ctx.log.info('request ended before it ran; asking again', { key, state: r.state });
          sub.close();
          key = nextRequestKey(key);
          sub = await listener.subscribe(key);
          r = await ask();
          renewed = NOTHING_TAKEN_UP;
          continue;
        }
        // No heartbeat in the first re-check period: most waits under load end sooner, and each first heartbeat
        // is a call to the server (well inside the heartbeat timeout either way; a cancelled workflow withdraws
        // the request itself, which wakes this waiter without a heartbeat).
        if (performance.now() - waitingSince >= recheckMs) ctx.heartbeat({ key, reason: r.reason });
        await report(r.reason);
        const outcome = await sub.next(recheckMs, ctx.cancellationSignal);
        if (outcome === 'aborted')
          throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'cancelled'));
        try {
          const view = await renewals(db).renew(key, outcome === 'notified');
          r = view?.reservation ?? { ...r, state: 'expired' };
          renewed = view ?? NOTHING_TAKEN_UP;
        } catch (err) {
          // The ledger is away: keep heartbeating and try again; if the lease lapses meanwhile we ask again.
          ctx.log.warn('could not renew pending request', { key, error: String(err) });
        }
      }
    } catch (err) {
      if (ctx.cancellationSignal.aborted || err instanceof CancelledFailure) {
        // Withdraw: a pending request of a cancelled (or terminated) requester must not linger.
        await ledgerRelease(db, key, undefined, { outcome: 'cancelled' }).catch(() => undefined);
      }
      throw err;
    } finally {
      sub.close();
    }
  }

  /**
   * Withdraws a stage attempt's requests that have not started (its workflow was cancelled while waiting):
   * `baseKey` and its renewals.
   */
  async function withdrawRequest(baseKey: string): Promise<void> {
    const db = await deps.ledger.get();
    const withdrawn = await withdrawAttempt(db, baseKey);
    if (withdrawn.length > 0) await handOffReleased(db);
  }

  /**
   * Releases a reservation (idempotent) and records how its attempt ended (execution data); its capacity
   * goes to the waiting queue at once ({@link handOff}). A bare key (what workflows of earlier versions send)
   * records `completed` when the stage had started, `cancelled` when not.
   * @throws InvalidLedgerArgumentError (non-retryable) for an unknown outcome; DatabaseUnavailableError.
   */
  async function releaseReservation(input: string | ReleaseReservationInput): Promise<void> {
    const db = await deps.ledger.get();
    const { key, outcome } = typeof input === 'string' ? { key: input, outcome: undefined } : input;
    const { changed, pending } = await ledgerRelease(
      db,
      key,
      undefined,
      outcome === undefined ? {} : { outcome },
    );
    // Nothing pending: no cycle could hand the capacity to anyone (a request arriving now sees it free).
    if (changed && pending) await handOffReleased(db);
  }

  return { requestFastPath, awaitReservation, releaseReservation, withdrawRequest, handOffReleased };
}

/**
 * Ledger errors flagged `retryable: false` (bad arguments, unknown pools, no database configured) become
 * non-retryable Temporal failures, so the activity fails at once instead of retrying forever; the rest
 * (a database that is down) stay retryable.
 */
export function nonRetryableLedgerErrors<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      const e = err as { retryable?: unknown; name?: string; message?: string };
      if (e.retryable === false) throw ApplicationFailure.nonRetryable(e.message ?? String(err), e.name);
      throw err;
    }
  };
}
