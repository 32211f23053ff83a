import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors, ActivityInterceptorsFactory } from '@temporalio/worker';
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
  /** Whether a handler name is registered; others are labelled {@link UNKNOWN_HANDLER}. */
  isKnownHandler: (name: string) => boolean;
  /** Keys already counted, remembered to never count a grant twice. @default 10000 */
  rememberKeys?: number;
}

type Log = Context['log'];

/** The fields of an admission request and decision the observer reads (`awaitReservation`'s in and out). */
interface RequestLike {
  key?: unknown;
  workflowId?: unknown;
  stageId?: unknown;
  priority?: unknown;
}
interface DecisionLike {
  kind?: unknown;
  key?: unknown;
  nodeId?: unknown;
  reduced?: unknown;
  fast?: unknown;
  waitSeconds?: unknown;
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
 * - `scheduleCycle` → cycle duration and outcome, rejections, lease expiries, shrink offers; one `debug` log
 *   line per cycle (counts per decision in its queue, duration, the top row).
 * - `awaitReservation` (a stage attempt's whole wait) and `requestFastPath` (the local activity that admits an
 *   uncontended stage before any wait) → every admission, once per reservation key, with its
 *   path (fast: in the request's own transaction; cycle), its wait (request → grant, on the database's clock)
 *   and reduced flag, and an `info` line per grant; shard decisions by path.
 * - `runStage` → stage attempts by handler and outcome, and their duration.
 * Observation never fails an activity: errors in it are swallowed.
 */
/** The activities observed; `requestFastPath` is the local activity that may admit before `awaitReservation`. */
const OBSERVED = new Set(['scheduleCycle', 'awaitReservation', 'requestFastPath', 'runStage']);

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
        if (!OBSERVED.has(type)) return next(input);
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
    if (type === 'awaitReservation' || type === 'requestFastPath') {
      const req = (arg ?? {}) as RequestLike;
      const d = (result ?? {}) as DecisionLike;
      const path = d.fast === true ? 'fast' : 'cycle';
      if (d.kind === 'shard') {
        if (path === 'fast') metrics?.observeFastShard();
        else metrics?.observeCycleShard();
      }
      if (d.kind !== 'grant') return;
      const key = typeof d.key === 'string' ? d.key : req.key;
      if (typeof key === 'string' && !this.firstTime(key)) return;
      const priority = typeof req.priority === 'number' ? req.priority : Number.NaN;
      const waitSeconds = typeof d.waitSeconds === 'number' ? d.waitSeconds : 0;
      metrics?.observeGrant(path, { priority, waitSeconds, reduced: d.reduced === true });
      log.info('stage granted', {
        path,
        workflowId: req.workflowId,
        stageId: req.stageId,
        key,
        nodeId: d.nodeId,
        priority: req.priority,
        reduced: d.reduced === true,
        waitSeconds: Math.round(waitSeconds * 1000) / 1000,
      });
      return;
    }
    if (!isCycleSummary(result)) return;
    metrics?.observeCycle(result, s);
    this.logCycle(result, log, s);
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
