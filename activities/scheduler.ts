import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expireBoosts } from '../src/ledger/boosts';
import { commitDecisions, type GrantDecision as LedgerGrant, type WaitNote } from '../src/ledger/commit';
import type { LazyDatabase } from '../src/ledger/lazy';
import { getNode } from '../src/ledger/nodes';
import {
  getReservation,
  releaseReservation as ledgerRelease,
  requestReservation as ledgerRequest,
  expireLeases,
  countPending,
} from '../src/ledger/reservations';
import { expireShrinkOffers } from '../src/ledger/shrink';
import { snapshot, type LedgerSnapshot } from '../src/ledger/snapshot';
import { SHRINK_DECLINE_COOLDOWN_MS, SHRINK_OFFER_TTL_MS } from '../src/admission/constants';
import type { ReservationRecord, ShardSpecRecord } from '../src/ledger/types';
import type { AdmissionDecision, AdmissionRequest, CycleReport, QueueRow } from '../src/admission/types';
import { runCycle } from '../src/scheduling/cycle';
import type { SchedulerConfig } from '../src/scheduling/config';
import type { Decision, RankedEntry, ShardRequestSpec } from '../src/scheduling/types';
import { createBoostActivities } from './boosts';
import { toClusterSnapshot } from '../src/admission/cluster-snapshot';
import { queueWithEstimates } from './queue-estimates';
import { proposeShrinks } from './shrink-offers';
import { wakeScheduler as signalScheduler } from './wake';

/** What the scheduler activities need. */
export interface SchedulerActivityDependencies {
  /** The ledger. */
  ledger: LazyDatabase;
  /** Scoring weights and cycle options. */
  config: SchedulerConfig;
  /** Workflow id of the singleton scheduler. */
  schedulerWorkflowId: string;
  /** Task queue the scheduler workflow runs on. */
  schedulerTaskQueue: string;
  /** Lease of a grant, ms. */
  leaseMs: number;
  /** A node silent for longer is stale, ms. */
  staleAfterMs: number;
  /** Rows of the ranked queue kept for the `queue` query. @default 200 */
  queueLimit?: number;
  /** An unanswered shrink offer is cleared (and counts as declined) after this long, ms. @default SHRINK_OFFER_TTL_MS */
  shrinkOfferTtlMs?: number;
  /** A stage that declined a shrink offer is not asked again for this long, ms. @default SHRINK_DECLINE_COOLDOWN_MS */
  shrinkCooldownMs?: number;
}

function shardSpecRecord(spec: ShardRequestSpec): ShardSpecRecord {
  return {
    maxShards: spec.maxShards,
    ...(spec.itemCount === undefined ? {} : { itemCount: spec.itemCount }),
    ...(spec.minItemsPerShard === undefined ? {} : { minItemsPerShard: spec.minItemsPerShard }),
    ...(spec.perShardFloor === undefined ? {} : { perShardFloor: { ...spec.perShardFloor } }),
  };
}

function grantOf(r: ReservationRecord, taskQueue: string): AdmissionDecision {
  return {
    kind: 'grant',
    key: r.key,
    nodeId: r.nodeId as string,
    taskQueue,
    granted: r.granted ?? {},
    reduced: Object.entries(r.desired).some(([k, v]) => (r.granted?.[k] ?? 0) < v - 1e-9),
  };
}

function toLedgerGrant(
  d: Decision & { kind: 'grant' },
  entry: RankedEntry | undefined,
  leaseMs: number,
): LedgerGrant {
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

function toAdmission(d: Decision): AdmissionDecision {
  switch (d.kind) {
    case 'grant':
      return {
        kind: 'grant',
        key: d.key,
        nodeId: d.nodeId,
        taskQueue: d.taskQueue,
        granted: d.granted,
        reduced: d.reduced,
      };
    case 'shard':
      return { kind: 'shard', key: d.key, shardCount: d.shardCount, perShard: d.perShard };
    case 'wait':
      return { kind: 'pending', key: d.key, reason: d.reason.message };
  }
}

/**
 * The scheduler's activities: `requestReservation` (record, fast-path grant, wake the scheduler),
 * `checkReservation` (a waiting stage's re-check), `releaseReservation`, and `scheduleCycle` (snapshot →
 * pure cycle → one committing transaction → signal each requester). Thin adapters over `src/ledger` and
 * `src/scheduling`.
 */
export function createSchedulerActivities(deps: SchedulerActivityDependencies) {
  const queueLimit = deps.queueLimit ?? 200;
  const shrinkOfferTtlMs = deps.shrinkOfferTtlMs ?? SHRINK_OFFER_TTL_MS;
  const shrinkCooldownMs = deps.shrinkCooldownMs ?? SHRINK_DECLINE_COOLDOWN_MS;

  async function wakeScheduler(client: Client): Promise<void> {
    await signalScheduler(client, {
      workflowId: deps.schedulerWorkflowId,
      taskQueue: deps.schedulerTaskQueue,
    });
  }

  /** The task queue of the node a held reservation is on (it exists: the ledger's foreign key). One row. */
  async function taskQueueOf(nodeId: string): Promise<string> {
    return (await getNode(await deps.ledger.get(), nodeId)).taskQueue;
  }

  /** Records a stage's request; grants it at once when nothing else waits and it fits, else wakes the scheduler. */
  async function requestReservation(req: AdmissionRequest): Promise<AdmissionDecision> {
    const db = await deps.ledger.get();
    const now = new Date();
    const { shard, ...rest } = req;
    const { reservation } = await ledgerRequest(
      db,
      { ...rest, ...(shard === undefined ? {} : { shardSpec: shardSpecRecord(shard) }) },
      now,
    );
    if (reservation.state === 'granted' || reservation.state === 'running') {
      return grantOf(reservation, await taskQueueOf(reservation.nodeId as string));
    }
    if (reservation.state !== 'pending') {
      throw ApplicationFailure.nonRetryable(
        `reservation ${req.key} already ended (${reservation.state}); request again with a new key`,
        'ReservationEndedError',
      );
    }
    // Fast path: alone in the queue → the cycle would grant it anyway; do it now, one round trip.
    const snap = await snapshot(db, now, { staleAfterMs: deps.staleAfterMs });
    if (snap.pending.length === 1 && snap.pending[0]?.key === req.key) {
      const { decisions, queue } = runCycle(toClusterSnapshot(snap), now, deps.config);
      const d = decisions[0];
      if (d?.kind === 'grant') {
        const result = await commitDecisions(db, [toLedgerGrant(d, queue[0], deps.leaseMs)], now, {
          staleAfterMs: deps.staleAfterMs,
        });
        if (result.granted.length === 1) return toAdmission(d);
      }
      // Not even its minimum fits anywhere, but it can be split: tell the requester now (it withdraws this
      // request and starts its shards), instead of waiting for the next cycle to say the same.
      if (d?.kind === 'shard') return toAdmission(d);
    }
    await wakeScheduler(Context.current().client);
    return { kind: 'pending', key: req.key };
  }

  /** A waiting stage's re-check (a missed signal never strands it): its grant if any, else wakes the scheduler. */
  async function checkReservation(key: string): Promise<AdmissionDecision> {
    const db = await deps.ledger.get();
    const r = await getReservation(db, key);
    if (r.state === 'granted' || r.state === 'running')
      return grantOf(r, await taskQueueOf(r.nodeId as string));
    if (r.state !== 'pending') {
      throw ApplicationFailure.nonRetryable(`reservation ${key} ended (${r.state})`, 'ReservationEndedError');
    }
    await wakeScheduler(Context.current().client);
    return { kind: 'pending', key, reason: r.reason ?? undefined };
  }

  /** Releases a reservation (idempotent); its capacity returns at once, so a waiting queue is woken. */
  async function releaseReservation(key: string): Promise<void> {
    const db = await deps.ledger.get();
    const { changed } = await ledgerRelease(db, key, new Date());
    if (changed && (await countPending(db)) > 0) await wakeScheduler(Context.current().client);
  }

  /**
   * One scheduling cycle: expire (leases, boosts, stale shrink offers), snapshot, decide (pure), commit in one
   * transaction, signal requesters; then, when the top request is still blocked, offer running stages a smaller
   * allocation (graceful degradation, `degrade`) — they free capacity only if they accept.
   */
  async function scheduleCycle(): Promise<CycleReport> {
    const started = Date.now();
    const db = await deps.ledger.get();
    const now = new Date();
    const expired = await expireLeases(db, now);
    await expireBoosts(db, now);
    await expireShrinkOffers(db, now, { maxAgeMs: shrinkOfferTtlMs });
    const snap = await snapshot(db, now, { staleAfterMs: deps.staleAfterMs });
    const { decisions, queue } = runCycle(toClusterSnapshot(snap), now, deps.config);
    const byKey = new Map(queue.map((e) => [e.key, e]));
    const grants = decisions.filter((d): d is Decision & { kind: 'grant' } => d.kind === 'grant');
    const waiting: WaitNote[] = decisions
      .filter((d) => d.kind !== 'grant')
      .map((d) => {
        const e = byKey.get(d.key);
        return {
          key: d.key,
          score: e?.score ?? 0,
          breakdown: e ? { ...e.breakdown } : undefined,
          reason: e?.reason ?? d.kind,
        };
      });
    const committed = await commitDecisions(
      db,
      grants.map((g) => toLedgerGrant(g, byKey.get(g.key), deps.leaseMs)),
      now,
      { staleAfterMs: deps.staleAfterMs, waiting },
    );
    const accepted = new Set(committed.granted.map((g) => g.key));
    const workflowOf = new Map(snap.pending.map((r) => [r.key, r.workflowId]));
    const client = Context.current().client;
    const previousReason = new Map(snap.pending.map((r) => [r.key, r.reason]));
    // Grants and shard decisions always; a wait only when its reason changed (so status shows why it waits
    // without a signal per waiting stage per cycle).
    const toSignal = decisions.filter(
      (d) =>
        (d.kind === 'grant' && accepted.has(d.key)) ||
        d.kind === 'shard' ||
        (d.kind === 'wait' && previousReason.get(d.key) !== byKey.get(d.key)?.reason),
    );
    await Promise.all(
      toSignal.map(async (d) => {
        const workflowId = workflowOf.get(d.key);
        if (workflowId === undefined) return;
        // A requester that is gone cannot run: free what it was just granted.
        await client.workflow
          .getHandle(workflowId)
          .signal('reservationDecision', toAdmission(d))
          .catch(async () => {
            if (d.kind === 'grant') await ledgerRelease(db, d.key, new Date()).catch(() => undefined);
          });
      }),
    );
    // Start estimates for the rows shown and shrink offers for the top blocked request, both on the ledger as
    // committed (this cycle's grants hold capacity). Advisory: the cycle is already committed and signalled,
    // so a failure here only leaves them out.
    let rows: QueueRow[] = queue.slice(0, queueLimit);
    const holder = decisions.find((d) => d.kind === 'wait' && d.hold !== undefined);
    let after: LedgerSnapshot | undefined;
    if (rows.some((e) => e.decision === 'wait') || holder !== undefined) {
      try {
        after = await snapshot(db, new Date(), { staleAfterMs: deps.staleAfterMs });
      } catch (err) {
        Context.current().log.warn('start-time estimates and shrink offers skipped', { error: String(err) });
      }
    }
    if (after !== undefined && rows.some((e) => e.decision === 'wait')) {
      try {
        rows = queueWithEstimates(rows, after, deps.config);
      } catch (err) {
        Context.current().log.warn('start-time estimates skipped', { error: String(err) });
      }
    }
    let shrinkOffers = 0;
    if (after !== undefined && holder !== undefined) {
      try {
        const offered = await proposeShrinks(db, after, holder.key, deps.config, shrinkCooldownMs);
        shrinkOffers = offered?.offered.length ?? 0;
      } catch (err) {
        Context.current().log.warn('shrink offers skipped', { error: String(err) });
      }
    }
    return {
      granted: accepted.size,
      rejected: committed.rejected.length,
      waiting: decisions.length - accepted.size,
      expired: expired.length,
      shrinkOffers,
      queue: rows,
      durationMs: Date.now() - started,
    };
  }

  const boosts = createBoostActivities(deps.ledger, () => wakeScheduler(Context.current().client));
  return {
    boostPolicy: boosts.boostPolicy,
    recordBoost: nonRetryableLedgerErrors(boosts.recordBoost),
    requestReservation: nonRetryableLedgerErrors(requestReservation),
    checkReservation: nonRetryableLedgerErrors(checkReservation),
    releaseReservation: nonRetryableLedgerErrors(releaseReservation),
    scheduleCycle: nonRetryableLedgerErrors(scheduleCycle),
  };
}

/**
 * Ledger errors flagged `retryable: false` (bad arguments, unknown pools, no database configured) become
 * non-retryable Temporal failures, so the activity fails at once instead of retrying forever; the rest
 * (a database that is down) stay retryable.
 */
function nonRetryableLedgerErrors<A extends unknown[], R>(
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
