import { beginCycle, expireLapsed, recordHolders, type QueueRefresh } from '../ledger/admission';
import { expireBoosts } from '../ledger/boosts';
import {
  commitDecisions,
  type CommitResult,
  type GrantDecision,
  type ShardOrderNote,
  type WaitNote,
} from '../ledger/commit';
import type { Database } from '../ledger/db';
import { expireShrinkOffers } from '../ledger/shrink';
import { snapshot, type LedgerSnapshot } from '../ledger/snapshot';
import { runCycle } from '../scheduling/cycle';
import { assignSuccessors } from '../scheduling/successors';
import { SUCCESSOR_HORIZON_MS } from './constants';
import type { SchedulerConfig } from '../scheduling/config';
import type { Decision, RankedEntry } from '../scheduling/types';
import { isolateBadRows, successorTails, toClusterSnapshot } from './cluster-snapshot';

/** What one ledger cycle needs. */
export interface LedgerCycleOptions {
  /** Scoring weights and cycle options: every process that runs cycles must use the same ones. */
  config: SchedulerConfig;
  /** Lease of a grant, ms. */
  leaseMs: number;
  /** A node silent for longer is stale, ms. */
  staleAfterMs: number;
  /** An unanswered shrink offer is cleared after this long, ms. */
  shrinkOfferTtlMs: number;
  /**
   * Also write every waiting request's score and reason (wait notes: `qm queue`, the `queue` query): always,
   * never, or only if a request or release came since the last refresh.
   */
  refresh: QueueRefresh;
  /** The scheduler's own cycle (stamps the ledger's last-cycle time), not one run inline by a release. */
  byScheduler: boolean;
  /**
   * Successor grants: how far ahead of a held reservation's expected end the head of the queue may be granted
   * behind it, ms ({@link assignSuccessors}; 0: never). @default SUCCESSOR_HORIZON_MS
   */
  successorHorizonMs?: number;
}

/** Milliseconds each step of a ledger cycle took. */
export interface LedgerCycleTimings {
  /** Database clock, wake flag, previous holders. */
  begin: number;
  /** Lapsed leases, boosts and shrink offers. */
  expire: number;
  /** The whole-ledger read. */
  snapshot: number;
  /** The pure scheduling cycle. */
  cycle: number;
  /** The committing transaction (grants re-checked, notes, NOTIFY) and the holders. */
  commit: number;
  /** All of it. */
  total: number;
}

/** What one ledger cycle decided and committed. */
export interface LedgerCycle {
  /** The cycle's time (the database's clock). */
  now: Date;
  /** The snapshot it decided on. */
  snapshot: LedgerSnapshot;
  /** The pure cycle's decisions, one per waiting request. */
  decisions: Decision[];
  /** The ranked queue. */
  queue: RankedEntry[];
  /** What the commit accepted and rejected (a grant that lost a race with capacity). */
  committed: CommitResult;
  /** Keys whose lease lapsed, expired by this cycle. */
  expired: string[];
  /** Malformed rows left out of the cycle, why. */
  dropped: string[];
  /** Nodes found overcommitted (nothing new is granted there). */
  overcommitted: string[];
  /** The cycle refreshed the queue (wrote wait notes). */
  refreshed: boolean;
  /** Wait notes written (0 unless refreshed). */
  notes: number;
  /** Step timings. */
  ms: LedgerCycleTimings;
}

/**
 * One scheduling cycle on the ledger, as the scheduler's `scheduleCycle` and a release's inline hand-off both
 * run it (the caller holds the cycle lock, see `withCycleLock`): begin (database clock, clear the wake flag),
 * expire lapsed leases, boosts and shrink offers, snapshot, the pure cycle and its successor pass
 * ({@link assignSuccessors}), then one transaction commits every
 * grant (re-checking capacity), shard order and wait note and announces the decided keys on the ledger's
 * channel; the holders are kept for the next cycle.
 * @throws DatabaseUnavailableError (nothing is committed unless the commit returned).
 */
export async function runLedgerCycle(db: Database, options: LedgerCycleOptions): Promise<LedgerCycle> {
  const t0 = performance.now();
  const { now, holders, refresh } = await beginCycle(db, options.byScheduler, options.refresh);
  const t1 = performance.now();
  const expired = await expireLapsed(db);
  await expireBoosts(db, now);
  await expireShrinkOffers(db, now, { maxAgeMs: options.shrinkOfferTtlMs });
  const t2 = performance.now();
  const snap = await snapshot(db, now, { staleAfterMs: options.staleAfterMs, liveRows: db.liveRows });
  const t3 = performance.now();
  const overcommitted = snap.nodes.filter((n) => n.overcommitted).map((n) => n.id);
  const {
    result: { decisions, queue },
    dropped,
  } = isolateBadRows(toClusterSnapshot(snap, undefined, holders), (c) =>
    assignSuccessors(
      c,
      runCycle(c, now, options.config),
      now,
      options.successorHorizonMs ?? SUCCESSOR_HORIZON_MS,
      successorTails(snap),
    ),
  );
  const t4 = performance.now();
  const byKey = new Map(queue.map((e) => [e.key, e]));
  const grants: GrantDecision[] = [];
  const shardOrders: ShardOrderNote[] = [];
  const waiting: WaitNote[] = [];
  for (const d of decisions) {
    if (d.kind === 'grant') {
      grants.push(toLedgerGrant(d, byKey.get(d.key), options.leaseMs));
      continue;
    }
    if (d.kind === 'shard') shardOrders.push({ key: d.key, shardCount: d.shardCount, perShard: d.perShard });
    if (!refresh) continue;
    const e = byKey.get(d.key);
    waiting.push({
      key: d.key,
      score: e?.score ?? 0,
      breakdown: e ? { ...e.breakdown } : undefined,
      reason: e?.reason ?? d.kind,
    });
  }
  const committed = await commitDecisions(db, grants, now, {
    staleAfterMs: options.staleAfterMs,
    waiting,
    shardOrders,
  });
  // Stable holds: the next cycle starts from this one's holders.
  const held = decisions.filter((d) => d.kind === 'wait' && d.hold !== undefined).map((d) => d.key);
  if (held.length > 0 || holders.length > 0) await recordHolders(db, held);
  const t5 = performance.now();
  return {
    now,
    snapshot: snap,
    decisions,
    queue,
    committed,
    expired,
    dropped,
    overcommitted,
    refreshed: refresh,
    notes: waiting.length,
    ms: {
      begin: t1 - t0,
      expire: t2 - t1,
      snapshot: t3 - t2,
      cycle: t4 - t3,
      commit: t5 - t4,
      total: t5 - t0,
    },
  };
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
    ...(d.behind === undefined ? {} : { behind: d.behind }),
  };
}
