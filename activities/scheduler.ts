import { Context } from '@temporalio/activity';
import { wakePending } from '../src/ledger/admission';
import { withCycleLock } from '../src/ledger/cycle-lock';
import type { LazyDatabase } from '../src/ledger/lazy';
import {
  DEFAULT_EXECUTION_RETENTION_DAYS,
  pruneExecutions,
  recordEstimatedStarts,
} from '../src/ledger/executions';
import { snapshot, type LedgerSnapshot } from '../src/ledger/snapshot';
import { SHRINK_DECLINE_COOLDOWN_MS, SHRINK_OFFER_TTL_MS } from '../src/admission/constants';
import type { CycleReport, QueueRow } from '../src/admission/types';
import { runLedgerCycle } from '../src/admission/ledger-cycle';
import type { SchedulerConfig } from '../src/scheduling/config';
import { createAdmissionActivities, nonRetryableLedgerErrors } from './admission';
import { createBoostActivities } from './boosts';
import { queueWithEstimates } from './queue-estimates';
import { proposeShrinks } from './shrink-offers';
import { wakeScheduler as signalScheduler, type HandOffCycleOptions } from './wake';

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
  /** Lease of a request, ms. */
  leaseMs: number;
  /** A node silent for longer is stale, ms. */
  staleAfterMs: number;
  /** Rows of the ranked queue kept for the `queue` query. @default 200 */
  queueLimit?: number;
  /** An unanswered shrink offer is cleared (and counts as declined) after this long, ms. @default SHRINK_OFFER_TTL_MS */
  shrinkOfferTtlMs?: number;
  /** A stage that declined a shrink offer is not asked again for this long, ms. @default SHRINK_DECLINE_COOLDOWN_MS */
  shrinkCooldownMs?: number;
  /**
   * Execution records that ended longer ago than this are pruned, days (a full cycle deletes one bounded
   * batch at most every {@link PRUNE_EVERY_MS}). @default DEFAULT_EXECUTION_RETENTION_DAYS (30)
   */
  executionRetentionDays?: number;
  /** Successor grants' horizon, ms (0: none). @default SUCCESSOR_HORIZON_MS */
  successorHorizonMs?: number;
}

/** How often a scheduler worker prunes old execution records (one batch of PRUNE_BATCH_ROWS), ms. */
export const PRUNE_EVERY_MS = 60_000;

/** Input of `scheduleCycle`. */
export interface ScheduleCycleInput {
  /**
   * Also write every waiting request's score and reason, compute start estimates, propose shrink offers and
   * return the ranked queue (the `queue` query's rows): `true`, `false`, or `'if-changed'` (only if a request
   * or release came since the last refresh: they decide inline and rarely signal the scheduler). The scheduler
   * asks for it at most every few seconds: the queue is the bulk of a cycle's result in history. @default true
   */
  withQueue?: boolean | 'if-changed';
}

/**
 * The scheduler's activities: `scheduleCycle` (snapshot → pure cycle → one committing transaction, whose
 * NOTIFY tells each decided requester), plus the admission activities (`awaitReservation`,
 * `releaseReservation`) and the boost activities. Thin adapters over `src/ledger` and `src/scheduling`.
 */
export function createSchedulerActivities(deps: SchedulerActivityDependencies) {
  const queueLimit = deps.queueLimit ?? 200;
  const shrinkOfferTtlMs = deps.shrinkOfferTtlMs ?? SHRINK_OFFER_TTL_MS;
  const shrinkCooldownMs = deps.shrinkCooldownMs ?? SHRINK_DECLINE_COOLDOWN_MS;
  const scheduler = { workflowId: deps.schedulerWorkflowId, taskQueue: deps.schedulerTaskQueue };
  const retentionDays = deps.executionRetentionDays ?? DEFAULT_EXECUTION_RETENTION_DAYS;
  let lastPruneAt = -Infinity;
  const cycleOptions: HandOffCycleOptions = {
    config: deps.config,
    leaseMs: deps.leaseMs,
    staleAfterMs: deps.staleAfterMs,
    shrinkOfferTtlMs,
    ...(deps.successorHorizonMs === undefined ? {} : { successorHorizonMs: deps.successorHorizonMs }),
  };
  const admission = createAdmissionActivities({
    ledger: deps.ledger,
    config: deps.config,
    scheduler,
    leaseMs: deps.leaseMs,
    staleAfterMs: deps.staleAfterMs,
    shrinkOfferTtlMs,
    ...(deps.successorHorizonMs === undefined ? {} : { successorHorizonMs: deps.successorHorizonMs }),
  });

  /**
   * One scheduling cycle: expire (leases, boosts, stale shrink offers), snapshot, decide (pure), commit in one
   * transaction, signal requesters; then, when the top request is still blocked, offer running stages a smaller
   * allocation (graceful degradation, `degrade`) — they free capacity only if they accept.
   */
  async function scheduleCycle(input: ScheduleCycleInput = {}): Promise<CycleReport> {
    const asked = input.withQueue ?? true;
    const started = Date.now();
    const db = await deps.ledger.get();
    const log = Context.current().log;
    // One cycle at a time across every process (a release may be running one inline): queue for the lock.
    const refresh = asked === 'if-changed' ? asked : asked ? 'always' : 'never';
    const { decisions, queue, committed, expired, dropped, overcommitted, refreshed } = await withCycleLock(
      db,
      () => runLedgerCycle(db, { ...cycleOptions, refresh, byScheduler: true }),
    );
    if (overcommitted.length > 0)
      log.warn('nodes overcommitted: nothing new is granted there', { overcommitted });
    for (const reason of dropped) log.warn('malformed ledger row left out of the cycle', { reason });
    const accepted = new Set(committed.granted.map((g) => g.key));
    // Read after unlocking: a change made while the cycle ran raised the flag, and a release that found the
    // lock taken left its capacity to this cycle's holder.
    const again = committed.rejected.length > 0 || (await wakePending(db));
    // Start estimates for the rows shown and shrink offers for the top blocked request, both on the ledger as
    // committed (this cycle's grants hold capacity). Advisory: the cycle is already committed and announced,
    // so a failure here only leaves them out.
    const report = (queueRows: QueueRow[], shrinkOffers: number): CycleReport => ({
      granted: accepted.size,
      rejected: committed.rejected.length,
      waiting: decisions.length - accepted.size,
      expired: expired.length,
      shrinkOffers,
      queue: queueRows,
      durationMs: Date.now() - started,
      dropped,
      overcommitted,
      // Run again at once when something changed meanwhile (a request, a release) or a grant lost a race.
      again,
      refreshed,
    });
    // A quick cycle (back-to-back under load): decisions only; the queue, wait notes, estimates and shrink
    // offers are refreshed by the next full one.
    if (!refreshed) return report([], 0);
    let rows: QueueRow[] = queue.slice(0, queueLimit);
    const holder = decisions.find((d) => d.kind === 'wait' && d.hold !== undefined);
    let after: LedgerSnapshot | undefined;
    if (rows.some((e) => e.decision === 'wait') || holder !== undefined) {
      try {
        after = await snapshot(db, undefined, { staleAfterMs: deps.staleAfterMs });
      } catch (err) {
        Context.current().log.warn('start-time estimates and shrink offers skipped', { error: String(err) });
      }
    }
    if (after !== undefined && rows.some((e) => e.decision === 'wait')) {
      try {
        rows = queueWithEstimates(rows, after, deps.config);
        // Kept on each waiting row, so its attempt's record can say how good the estimate was.
        await recordEstimatedStarts(
          db,
          rows
            .filter((e) => e.decision === 'wait' && typeof e.estimatedStartAt === 'string')
            .map((e) => ({ key: e.key, at: new Date(e.estimatedStartAt as string) })),
        );
      } catch (err) {
        Context.current().log.warn('start-time estimates skipped', { error: String(err) });
      }
    }
    // Retention: one bounded batch of old execution records, at most once a minute per worker.
    if (performance.now() - lastPruneAt >= PRUNE_EVERY_MS) {
      lastPruneAt = performance.now();
      try {
        const pruned = await pruneExecutions(db, { retentionDays });
        if (pruned > 0) log.info('old execution records pruned', { pruned, retentionDays });
      } catch (err) {
        log.warn('execution records not pruned', { error: String(err) });
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
    return report(rows, shrinkOffers);
  }

  const boosts = createBoostActivities(deps.ledger, () =>
    signalScheduler(Context.current().client, scheduler),
  );
  return {
    recordBoost: nonRetryableLedgerErrors(boosts.recordBoost),
    requestFastPath: nonRetryableLedgerErrors(admission.requestFastPath),
    awaitReservation: nonRetryableLedgerErrors(admission.awaitReservation),
    releaseReservation: nonRetryableLedgerErrors(admission.releaseReservation),
    withdrawRequest: nonRetryableLedgerErrors(admission.withdrawRequest),
    scheduleCycle: nonRetryableLedgerErrors(scheduleCycle),
    /** Not an activity: what a stage's own release calls to hand capacity on (see `handOff`). */
    handOff: admission.handOffReleased,
  };
}
