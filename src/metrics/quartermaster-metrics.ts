import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransactionEvent } from '../ledger/db';
import { PRIORITY_BANDS, priorityBand } from './priority-band';

/**
 * What a scheduling cycle reports, as far as the metrics read it: the shape of the `scheduleCycle`
 * activity's result (`CycleReport`). Declared here, structurally, so the metrics do not depend on where
 * the admission code keeps its types; a test pins that the real report still fits.
 */
export interface CycleSummary {
  /** Grants written. */
  readonly granted: number;
  /** Grants the ledger rejected at commit. */
  readonly rejected: number;
  /** Requests still waiting. */
  readonly waiting: number;
  /** Leases that lapsed this cycle. */
  readonly expired: number;
  /** Shrink offers recorded this cycle. */
  readonly shrinkOffers: number;
  /** The ranked queue (possibly truncated), one row per decision. */
  readonly queue: readonly CycleQueueRow[];
  /** Time the cycle took inside the activity, ms. */
  readonly durationMs: number;
}

/** A row of {@link CycleSummary.queue}, as far as the metrics and logs read it. */
export interface CycleQueueRow {
  readonly key: string;
  readonly workflowId: string;
  readonly stageId: string;
  readonly priority: number;
  /** `grant`, `shard` or `wait`. */
  readonly decision: string;
  /** Where it was granted, how it was sharded, or why it waits. */
  readonly reason: string;
}

/** How a cycle ended, as the `outcome` label of `quartermaster_cycles_total`. */
export type CycleOutcome = 'granted' | 'waiting' | 'idle' | 'failed';

/** Where an admission was decided: in the request's own activity (`fast`) or by a scheduling cycle. */
export type AdmissionPath = 'fast' | 'cycle';

/** How a stage attempt ended, as the `outcome` label of the stage metrics. */
export type StageOutcome = 'succeeded' | 'failed' | 'cancelled';

/** Label value for a handler name the registry does not know (keeps the label set bounded). */
export const UNKNOWN_HANDLER = 'unknown';

/** Options of {@link QuartermasterMetrics}. */
export interface QuartermasterMetricsOptions {
  /** Also register Node's process metrics (`process_*`, `nodejs_*`). @default true */
  processMetrics?: boolean;
}

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SECONDS_CYCLE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_WAIT = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const SECONDS_STAGE = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600];

/**
 * Quartermaster's own metrics in one prom-client {@link Registry}: counters and histograms fed by the worker's
 * activities (cycles, admissions, stages), the ledger's transaction latency, the node's forecast error; the
 * scrape-time ledger gauges are added by `registerLedgerGauges`. Names follow Prometheus conventions:
 * `quartermaster_` prefix, base units (`_seconds`), `_total` on counters; labels are bounded (priority band,
 * handler name, node, resource, operation — never a workflow id). The only module that imports prom-client
 * is `src/metrics`.
 *
 * @example
 * const metrics = new QuartermasterMetrics();
 * metrics.observeCycle(report, 0.012);
 * const text = await metrics.registry.metrics();
 */
export class QuartermasterMetrics {
  /** The registry every metric is in (serve `registry.metrics()` with `registry.contentType`). */
  readonly registry = new Registry();

  private readonly cycles: Counter<'outcome'>;
  private readonly cycleDuration: Histogram;
  private readonly admissions: Counter<'path' | 'priority_band'>;
  private readonly reducedGrants: Counter<'path' | 'priority_band'>;
  private readonly shardDecisions: Counter<'path'>;
  private readonly rejections: Counter;
  private readonly leaseExpiries: Counter;
  private readonly shrinkOffers: Counter;
  private readonly shrinkAccepts: Counter;
  private readonly admissionWait: Histogram<'priority_band'>;
  private readonly stageRuns: Counter<'handler' | 'outcome'>;
  private readonly stageDuration: Histogram<'handler'>;
  private readonly ledgerTransactions: Histogram<'operation' | 'outcome'>;
  private readonly forecastError: Gauge<'node' | 'resource' | 'horizon_seconds'>;

  constructor(options: QuartermasterMetricsOptions = {}) {
    const registers = [this.registry];
    this.cycles = new Counter({
      name: 'quartermaster_cycles_total',
      help: 'Scheduling cycles run by this worker, by outcome (granted: at least one grant; waiting: requests waited, none granted; idle: nothing pending; failed: the activity threw).',
      labelNames: ['outcome'],
      registers,
    });
    this.cycleDuration = new Histogram({
      name: 'quartermaster_cycle_duration_seconds',
      help: 'Wall time of one scheduleCycle activity on this worker (expire, snapshot, decide, commit, signal).',
      buckets: SECONDS_CYCLE,
      registers,
    });
    this.admissions = new Counter({
      name: 'quartermaster_admissions_total',
      help: 'Stages granted resources, by where it was decided (fast: in the request itself; cycle: by a scheduling cycle) and priority band (low 1-3, normal 4-7, high 8-10).',
      labelNames: ['path', 'priority_band'],
      registers,
    });
    this.reducedGrants = new Counter({
      name: 'quartermaster_reduced_grants_total',
      help: 'Admissions granted below the desired vector (between minimum and desired), by path and priority band.',
      labelNames: ['path', 'priority_band'],
      registers,
    });
    this.shardDecisions = new Counter({
      name: 'quartermaster_shard_decisions_total',
      help: 'Shard decisions (a stage told to split because not even its minimum fits), by path.',
      labelNames: ['path'],
      registers,
    });
    this.rejections = new Counter({
      name: 'quartermaster_commit_rejections_total',
      help: 'Grants a cycle decided that the ledger rejected at commit (a racing change); they stay pending.',
      registers,
    });
    this.leaseExpiries = new Counter({
      name: 'quartermaster_lease_expiries_total',
      help: 'Leases that lapsed (requester or worker gone) and were expired by a scheduling cycle.',
      registers,
    });
    this.shrinkOffers = new Counter({
      name: 'quartermaster_shrink_offers_total',
      help: 'Shrink offers (graceful degradation) recorded by scheduling cycles.',
      registers,
    });
    this.shrinkAccepts = new Counter({
      name: 'quartermaster_shrink_accepts_total',
      help: 'Shrink offers accepted by running stages on this worker (their grant became the smaller vector).',
      registers,
    });
    this.admissionWait = new Histogram({
      name: 'quartermaster_admission_wait_seconds',
      help: 'Time from a stage asking for resources to its grant (ledger timestamps), by priority band.',
      labelNames: ['priority_band'],
      buckets: SECONDS_WAIT,
      registers,
    });
    this.stageRuns = new Counter({
      name: 'quartermaster_stage_runs_total',
      help: 'Stage attempts run by this worker, by handler and outcome (succeeded, failed, cancelled).',
      labelNames: ['handler', 'outcome'],
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'quartermaster_stage_duration_seconds',
      help: 'Wall time of one stage attempt (the runStage activity), by handler.',
      labelNames: ['handler'],
      buckets: SECONDS_STAGE,
      registers,
    });
    this.ledgerTransactions = new Histogram({
      name: 'quartermaster_ledger_transaction_duration_seconds',
      help: 'Ledger transactions from connection checkout to COMMIT/ROLLBACK, by operation and outcome (committed, rolled-back).',
      labelNames: ['operation', 'outcome'],
      buckets: SECONDS_FAST,
      registers,
    });
    this.forecastError = new Gauge({
      name: 'quartermaster_forecast_absolute_error',
      help: "Mean absolute error of this node's usage forecasts over the last evaluated samples, in the resource's unit (cpu: cores, memoryMb: MiB, diskIoMBps: MiB/s, netMbps: Mbit/s), by horizon.",
      labelNames: ['node', 'resource', 'horizon_seconds'],
      registers,
    });
    // Every bounded label combination known up front is exported from the start (at 0), so dashboards
    // and rate() see a series before the first event rather than "no data".
    for (const outcome of ['granted', 'waiting', 'idle', 'failed'] as const) this.cycles.inc({ outcome }, 0);
    for (const path of ['fast', 'cycle'] as const) {
      this.shardDecisions.inc({ path }, 0);
      for (const band of PRIORITY_BANDS) {
        this.admissions.inc({ path, priority_band: band }, 0);
        this.reducedGrants.inc({ path, priority_band: band }, 0);
      }
    }
    for (const band of PRIORITY_BANDS) this.admissionWait.zero({ priority_band: band });
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client exports these three gauges with a `_total` suffix, which Prometheus reserves for counters
      // (promtool check metrics flags them); the same counts remain as nodejs_active_{handles,requests,resources}.
      for (const name of [
        'nodejs_active_handles_total',
        'nodejs_active_requests_total',
        'nodejs_active_resources_total',
      ])
        this.registry.removeSingleMetric(name);
    }
  }

  /**
   * Records a finished scheduling cycle: its duration, outcome, and the rejections, lease expiries, shrink
   * offers and shard decisions it reports. Admissions are recorded per grant by {@link observeGrant}.
   * @param seconds - wall time of the activity
   */
  observeCycle(report: CycleSummary, seconds: number): void {
    this.cycleDuration.observe(seconds);
    const outcome: CycleOutcome =
      report.granted > 0 ? 'granted' : report.waiting > 0 || report.rejected > 0 ? 'waiting' : 'idle';
    this.cycles.inc({ outcome });
    if (report.rejected > 0) this.rejections.inc(report.rejected);
    if (report.expired > 0) this.leaseExpiries.inc(report.expired);
    if (report.shrinkOffers > 0) this.shrinkOffers.inc(report.shrinkOffers);
    // Shard decisions are counted where their requester learns of them (observeCycleShard / observeFastShard):
    // a quick cycle's report carries no queue rows.
  }

  /** Records a scheduling cycle whose activity threw. @param seconds - wall time until it threw */
  observeFailedCycle(seconds: number): void {
    this.cycleDuration.observe(seconds);
    this.cycles.inc({ outcome: 'failed' });
  }

  /**
   * Records one admission: counts it (and a reduced grant) by path and priority band, and observes its
   * request → grant wait.
   */
  observeGrant(
    path: AdmissionPath,
    grant: { priority: number; waitSeconds: number; reduced: boolean },
  ): void {
    const labels = { path, priority_band: priorityBand(grant.priority) };
    this.admissions.inc(labels);
    if (grant.reduced) this.reducedGrants.inc(labels);
    this.admissionWait.observe({ priority_band: labels.priority_band }, Math.max(0, grant.waitSeconds));
  }

  /** Records a shard decision made by a cycle (its requester learned of it). */
  observeCycleShard(): void {
    this.shardDecisions.inc({ path: 'cycle' });
  }

  /** Records a shard decision made on the fast path. */
  observeFastShard(): void {
    this.shardDecisions.inc({ path: 'fast' });
  }

  /**
   * Records one stage attempt.
   * @param handler - a registered handler's name, or {@link UNKNOWN_HANDLER}
   * @param seconds - wall time of the attempt
   */
  observeStage(handler: string, outcome: StageOutcome, seconds: number): void {
    this.stageRuns.inc({ handler, outcome });
    this.stageDuration.observe({ handler }, seconds);
  }

  /**
   * A ledger transaction ended (pass this as the ledger's `observer`). Also counts accepted shrink offers:
   * an `accept shrink` transaction that committed with a result (a stale offer commits with `stale`).
   */
  readonly observeTransaction = (event: TransactionEvent): void => {
    this.ledgerTransactions.observe({ operation: event.operation, outcome: event.outcome }, event.seconds);
    if (
      event.operation === 'accept shrink' &&
      event.outcome === 'committed' &&
      typeof event.result === 'object' &&
      event.result !== null &&
      'result' in event.result
    ) {
      this.shrinkAccepts.inc();
    }
  };

  /** Records the current mean absolute forecast error of one node, resource and horizon. */
  setForecastError(node: string, resource: string, horizonSeconds: number, meanAbsoluteError: number): void {
    this.forecastError.set(
      { node, resource, horizon_seconds: String(horizonSeconds) },
      Math.max(0, meanAbsoluteError),
    );
  }

  /** The exposition text of every metric (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
