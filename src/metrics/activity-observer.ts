import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Database } from '../ledger/db';
import { readGrantFacts, type GrantFacts } from '../ledger/metrics-queries';
import {
  UNKNOWN_HANDLER,
  type CycleSummary,
  type QuartermasterMetrics,
  type StageOutcome,
} from './quartermaster-metrics';

/** Options of {@link ActivityObserver}. */
export interface ActivityObserverOptions {
  /** Where to count; absent: logs only. */
  metrics?: QuartermasterMetrics;
  /** The ledger, to read a cycle's grant facts (wait, reduced) — only used with `metrics`. */
  ledger?: () => Promise<Database>;
  /** Whether a handler name is registered; others are labelled {@link UNKNOWN_HANDLER}. */
  isKnownHandler: (name: string) => boolean;
  /** Keys already counted, remembered to never count a grant twice. @default 10000 */
  rememberKeys?: number;
}

type Log = Context['log'];

/** The fields of an admission request and decision the observer reads (`requestReservation`'s in and out). */
interface RequestLike {
  key?: unknown;
  workflowId?: unknown;
  stageId?: unknown;
  priority?: unknown;
}
interface DecisionLike {
  kind?: unknown;
  nodeId?: unknown;
  reduced?: unknown;
}
interface StageInputLike {
  handler?: unknown;
  workflowId?: unknown;
  stageId?: unknown;
  attempt?: unknown;
}

function isCycleSummary(v: unknown): v is CycleSummary {
  const r = v as Partial<CycleSummary> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.granted === 'number' &&
    typeof r.rejected === 'number' &&
    typeof r.waiting === 'number' &&
    Array.isArray(r.queue)
  );
}

/**
 * Watches Quartermaster's activities from outside, as a Temporal activity interceptor (no change to the
 * activities themselves):
 * - `scheduleCycle` → cycle duration and outcome, rejections, lease expiries, shrink offers, shard decisions;
 *   one `debug` log line per cycle (counts per decision, duration, the top row) and one `info` line per grant
 *   (workflow id, stage, node, priority, wait). With metrics, the grants' wait and reduced flag are read from
 *   the ledger (one indexed query per cycle that granted, after the activity returned: not on its path).
 * - `requestReservation` → fast-path admissions (wait 0: granted in the request's own transaction) and
 *   shard decisions, with an `info` line per grant.
 * - `runStage` → stage attempts by handler and outcome, and their duration.
 * Observation never fails an activity: errors in it are swallowed.
 */
export class ActivityObserver {
  private readonly counted = new Set<string>();
  private readonly rememberKeys: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ActivityObserverOptions) {
    this.rememberKeys = options.rememberKeys ?? 10_000;
  }

  /** The interceptor factory for `WorkerOptions.interceptors.activity`. */
  readonly factory: ActivityInterceptorsFactory = (ctx): ActivityInterceptors => ({
    inbound: {
      execute: async (input, next) => {
        const type = ctx.info.activityType;
        if (type !== 'scheduleCycle' && type !== 'requestReservation' && type !== 'runStage')
          return next(input);
        const started = performance.now();
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          this.safely(() => this.failed(type, input.args[0], err, ctx, seconds(started)));
          throw err;
        }
        this.safely(() => this.succeeded(type, input.args[0], result, ctx.log, seconds(started)));
        return result;
      },
    },
  });

  /** Resolves when the ledger reads started after earlier cycles have finished (tests, benchmarks). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // Bookkeeping only: never fail the activity it watched.
    }
  }

  private succeeded(type: string, arg: unknown, result: unknown, log: Log, s: number): void {
    const metrics = this.options.metrics;
    if (type === 'runStage') {
      metrics?.observeStage(this.handlerLabel(arg), 'succeeded', s);
      return;
    }
    if (type === 'requestReservation') {
      const req = (arg ?? {}) as RequestLike;
      const d = (result ?? {}) as DecisionLike;
      if (d.kind === 'shard') metrics?.observeFastShard();
      if (d.kind !== 'grant') return;
      const priority = typeof req.priority === 'number' ? req.priority : Number.NaN;
      if (typeof req.key === 'string' && !this.firstTime(req.key)) return;
      metrics?.observeGrant('fast', { priority, waitSeconds: 0, reduced: d.reduced === true });
      log.info('stage granted', {
        path: 'fast',
        workflowId: req.workflowId,
        stageId: req.stageId,
        key: req.key,
        nodeId: d.nodeId,
        priority: req.priority,
        reduced: d.reduced === true,
        waitSeconds: 0,
      });
      return;
    }
    if (!isCycleSummary(result)) return;
    metrics?.observeCycle(result, s);
    this.logCycle(result, log, s);
    // The report's queue is truncated (the `queue` query's limit, 200 rows): a grant ranked below it is not
    // seen here and goes uncounted. Exact per-grant counting belongs in the admission code's commit step
    // (`QuartermasterMetrics.observeGrant`); this observer is the non-invasive approximation until then.
    const grantRows = result.queue.filter((r) => r.decision === 'grant');
    if (grantRows.length === 0) return;
    if (metrics === undefined || this.options.ledger === undefined) {
      // Logs only: the rows say who was granted where; a rejected one (rare) cannot be told apart here.
      for (const r of grantRows)
        log.info('stage granted', {
          path: 'cycle',
          workflowId: r.workflowId,
          stageId: r.stageId,
          key: r.key,
          priority: r.priority,
          reason: r.reason,
          ...(result.rejected > 0 ? { rejectedInCycle: result.rejected } : {}),
        });
      return;
    }
    const byKey = new Map(grantRows.map((r) => [r.key, r]));
    const ledger = this.options.ledger;
    const work = ledger()
      .then((db) => readGrantFacts(db, [...byKey.keys()]))
      .then((facts) => {
        for (const f of facts) {
          if (!this.firstTime(f.key)) continue;
          metrics.observeGrant('cycle', f);
          log.info('stage granted', grantLine(f, byKey.get(f.key)?.stageId));
        }
      })
      .catch((err: unknown) => log.warn('grant metrics skipped', { error: String(err) }));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private failed(
    type: string,
    arg: unknown,
    err: unknown,
    ctx: Parameters<ActivityInterceptorsFactory>[0],
    s: number,
  ): void {
    const metrics = this.options.metrics;
    if (type === 'scheduleCycle') {
      metrics?.observeFailedCycle(s);
      ctx.log.debug('scheduling cycle failed', { durationMs: Math.round(s * 1000), error: String(err) });
    } else if (type === 'runStage') {
      const cancelled =
        (err as { name?: unknown } | null)?.name === 'CancelledFailure' || ctx.cancellationSignal.aborted;
      const outcome: StageOutcome = cancelled ? 'cancelled' : 'failed';
      metrics?.observeStage(this.handlerLabel(arg), outcome, s);
    }
  }

  private logCycle(report: CycleSummary, log: Log, s: number): void {
    const decisions = { grant: 0, shard: 0, wait: 0 };
    for (const r of report.queue) {
      if (r.decision === 'grant' || r.decision === 'shard' || r.decision === 'wait') decisions[r.decision]++;
    }
    const top = report.queue[0];
    log.debug('scheduling cycle', {
      durationMs: Math.round(s * 1000),
      cycleMs: report.durationMs,
      granted: report.granted,
      rejected: report.rejected,
      waiting: report.waiting,
      expired: report.expired,
      shrinkOffers: report.shrinkOffers,
      decisions,
      ...(top
        ? {
            top: {
              workflowId: top.workflowId,
              stageId: top.stageId,
              decision: top.decision,
              reason: top.reason,
            },
          }
        : {}),
    });
  }

  private handlerLabel(arg: unknown): string {
    const name = (arg as StageInputLike | null)?.handler;
    return typeof name === 'string' && this.options.isKnownHandler(name) ? name : UNKNOWN_HANDLER;
  }

  /** True the first time a reservation key is seen (bounded memory: the oldest keys are forgotten). */
  private firstTime(key: string): boolean {
    if (this.counted.has(key)) return false;
    this.counted.add(key);
    if (this.counted.size > this.rememberKeys) {
      const oldest = this.counted.values().next().value;
      if (oldest !== undefined) this.counted.delete(oldest);
    }
    return true;
  }
}

function seconds(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

function grantLine(f: GrantFacts, stageId: string | undefined): Record<string, unknown> {
  return {
    path: 'cycle',
    workflowId: f.workflowId,
    stageId,
    key: f.key,
    nodeId: f.nodeId,
    priority: f.priority,
    reduced: f.reduced,
    waitSeconds: Math.round(f.waitSeconds * 1000) / 1000,
  };
}
