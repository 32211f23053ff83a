import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  MAX_WAIT_REASON_UPDATES,
  WAIT_REASON_MIN_INTERVAL_MS,
  WAIT_RECHECK_MS,
} from '../src/admission/constants';
import { isEnded, nextRequestKey } from '../src/admission/lifecycle';
import { admissionProgressSignal } from '../src/admission/messages';
import type { AdmissionDecision, AdmissionProgress, AdmissionRequest } from '../src/admission/types';
import { requestAdmission, takeGrant, withdrawAttempt, type FastPathAnswer } from '../src/ledger/admission';
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
import type { Decision, RankedEntry, ShardRequestSpec } from '../src/scheduling/types';
import type { GrantDecision } from '../src/ledger/commit';
import { isolateBadRows, toClusterSnapshot } from '../src/admission/cluster-snapshot';
import { wakeOnce, type SchedulerAddress } from './wake';
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

  /** The fast path: the same pure cycle the scheduler runs, on a snapshot holding only this request. */
  const decide = (snap: LedgerSnapshot): FastPathAnswer => {
    const { result } = isolateBadRows(toClusterSnapshot(snap), (c) => runCycle(c, snap.now, deps.config));
    const d = result.decisions[0];
    const entry = result.queue[0];
    if (d?.kind === 'grant') return { kind: 'grant', decision: toLedgerGrant(d, entry, deps.leaseMs) };
    if (d?.kind === 'shard')
      return { kind: 'shard', order: { shardCount: d.shardCount, perShard: d.perShard } };
    return undefined;
  };

  /** Wakes the scheduler unless a wake is already on its way (see {@link wakeOnce}). */
  const wake = (db: Database, onlyIfPending: boolean): Promise<void> =>
    wakeOnce(db, Context.current().client, deps.scheduler, onlyIfPending);

  /**
   * A stage attempt's admission, start to end, in one activity: records the request (granted at once when
   * it is alone and fits), wakes the scheduler once, then waits — heartbeating, renewing its pending lease,
   * woken by the ledger's NOTIFY and re-checking every few seconds — until it is granted (the grant's lease
   * is renewed as it is taken up) or told to shard (the request is withdrawn). A request that ended before
   * it ran (its lease lapsed while the database was away, a grant that lapsed) is asked again with a fresh
   * key. Tells the workflow why it waits a bounded number of times. Cancelled (or its workflow gone): it
   * withdraws its request.
   * @throws `UnsatisfiableRequestError` (non-retryable) when no registered node or pool could ever hold the
   *   request (unless it may wait for larger nodes); the ledger's non-retryable errors for a bad request or
   *   unknown pool; `RequestWithdrawnError` when its workflow withdrew it; CancelledFailure.
   */
  async function awaitReservation(req: AdmissionRequest): Promise<AdmissionDecision> {
    const ctx = Context.current();
    const db = await deps.ledger.get();
    const listener = db.decisions;
    const { shard, waitForLargerNodes, readySince, ...fields } = req;
    // A request no registered node (or pool) could ever hold fails its stage at once, naming the resource.
    const problem = unsatisfiableResource(
      {
        minimum: req.minimum,
        desired: req.desired,
        ...(shard === undefined ? {} : { shard }),
        waitForLargerNodes,
      },
      await capacityCeiling(db),
    );
    if (problem !== undefined) {
      const err = new UnsatisfiableRequestError(req.stageId, problem);
      throw ApplicationFailure.create({
        message: err.message,
        type: err.name,
        nonRetryable: true,
        details: [problem],
      });
    }
    const since = readySince === undefined ? undefined : new Date(readySince);
    const request = (key: string): ReservationRequest => ({
      ...fields,
      ...(since !== undefined && Number.isFinite(since.getTime()) ? { requestedAt: since } : {}),
      key,
      leaseMs: deps.leaseMs,
      ...(shard === undefined ? {} : { shardSpec: shardSpecRecord(shard) }),
    });
    let key = req.key;
    let sub = await listener.subscribe(key);
    let reasonUpdates = 0;
    let lastReason: string | null = null;
    let lastReasonAt = -Infinity;
    let fast = false;
    const ask = async (): Promise<ReservationRecord> => {
      const state = await requestAdmission(db, request(key), {
        staleAfterMs: deps.staleAfterMs,
        decide,
      });
      fast = state.fastPath;
      if (state.reservation.state === 'pending' && state.reservation.shardOrder === null)
        await wake(db, false).catch((err: unknown) => ctx.log.warn('wake failed', { error: String(err) }));
      return state.reservation;
    };
    const report = async (reason: string | null): Promise<void> => {
      if (reason === null || reason === lastReason || reasonUpdates >= MAX_WAIT_REASON_UPDATES) return;
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
      let r = await ask();
      for (;;) {
        if (r.state === 'granted' || r.state === 'running') {
          const taken = r.state === 'running' ? r : await takeGrant(db, key, deps.leaseMs);
          if (taken !== undefined) {
            return {
              kind: 'grant',
              key,
              nodeId: taken.nodeId as string,
              taskQueue: (await getNode(db, taken.nodeId as string)).taskQueue,
              granted: taken.granted ?? {},
              reduced: isReduced(taken),
              fast,
              waitSeconds:
                taken.grantedAt === null
                  ? 0
                  : (taken.grantedAt.getTime() - taken.requestedAt.getTime()) / 1000,
            };
          }
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
          continue;
        }
        ctx.heartbeat({ key, reason: r.reason });
        await report(r.reason);
        const outcome = await sub.next(recheckMs, ctx.cancellationSignal);
        if (outcome === 'aborted')
          throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'cancelled'));
        try {
          r = (await renewals(db).renew(key, outcome === 'notified')) ?? { ...r, state: 'expired' };
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
    if (withdrawn.length > 0) await wake(db, true);
  }

  /**
   * Releases a reservation (idempotent) and records how its attempt ended (execution data); its capacity
   * returns at once, so a waiting queue is woken. A bare key (what workflows of earlier versions send)
   * records `completed` when the stage had started, `cancelled` when not.
   * @throws InvalidLedgerArgumentError (non-retryable) for an unknown outcome; DatabaseUnavailableError.
   */
  async function releaseReservation(input: string | ReleaseReservationInput): Promise<void> {
    const db = await deps.ledger.get();
    const { key, outcome } = typeof input === 'string' ? { key: input, outcome: undefined } : input;
    const { changed } = await ledgerRelease(db, key, undefined, outcome === undefined ? {} : { outcome });
    if (changed) await wake(db, true);
  }

  return { awaitReservation, releaseReservation, withdrawRequest };
}

/** A grant decided by the scheduling core, as the ledger commits it, with the score behind it for `qm queue`. */
export function toLedgerGrant(
  d: Decision & { kind: 'grant' },
  entry: RankedEntry | undefined,
  leaseMs: number,
): GrantDecision {
  return {
    key: d.key,
    nodeId: d.nodeId,
    granted: d.granted,
    leaseMs,
    score: entry?.score,
    breakdown: entry ? { ...entry.breakdown } : undefined,
    reason: entry?.reason,
  };
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
