import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { DEFAULT_TASK_QUEUE } from './config';
import { HandlerRegistry } from './handlers/registry';
import type { StageHandlerDefinition } from './handlers/types';
import { DatabaseNotConfiguredError, InvalidLedgerArgumentError } from './ledger/errors';
import { DEFAULT_EXECUTION_RETENTION_DAYS } from './ledger/executions';
import { lazyDatabase, type LazyDatabase } from './ledger/lazy';
import { DEFAULT_STALE_AFTER_MS } from './ledger/types';
import {
  DEFAULT_LEASE_MS,
  DEFAULT_SCHEDULER_WORKFLOW_ID,
  MAX_SUCCESSOR_HORIZON_MS,
  SUCCESSOR_HORIZON_MS,
} from './admission/constants';
import { ActivityObserver } from './metrics/activity-observer';
import type { QuartermasterMetrics } from './metrics/quartermaster-metrics';
import { compileSchedulerConfig, type SchedulerOptions } from './scheduling/config';
import { workflowsPath } from './worker/workflows-path';

/** Options for {@link QuartermasterPlugin}. All optional. */
export interface QuartermasterPluginOptions {
  /** Your stage handlers (from `defineStage`); the `qm.*` built-ins are always registered. @default [] */
  handlers?: readonly StageHandlerDefinition[];
  /** The ledger's PostgreSQL. Stages with `resources` need it. @default process.env.DATABASE_URL */
  databaseUrl?: string;
  /** Schema of the ledger's tables. @default process.env.QM_SCHEMA ?? 'quartermaster' */
  schema?: string;
  /** The shared task queue (pipelines and the scheduler run there). @default 'quartermaster' */
  taskQueue?: string;
  /** Workflow id of the singleton scheduler. @default process.env.QM_SCHEDULER_WORKFLOW_ID ?? 'quartermaster-scheduler' */
  schedulerWorkflowId?: string;
  /** Score weights and cycle options (validated at construction). */
  scheduler?: SchedulerOptions;
  /** Lease of a grant, ms; running stages renew it every 5 s. @default 30000 */
  leaseMs?: number;
  /** A node silent for longer is stale: nothing new is granted on it, ms. @default 30000 */
  staleAfterMs?: number;
  /**
   * How long execution records (`qm history`, learned run times, estimate accuracy) are kept, days (finite,
   * > 0); older ones are pruned in small batches by the scheduler. @default process.env.QM_EXECUTION_RETENTION_DAYS ?? 30
   */
  executionRetentionDays?: number;
  /**
   * Successor grants: the head of the queue may be granted behind a running stage expected to end within this
   * many ms, so its pickup overlaps that stage's run (0 to 3,600,000; 0 disables them). Every process that runs
   * cycles should use the same value. @default process.env.QM_SUCCESSOR_HORIZON_MS ?? 1000
   */
  successorHorizonMs?: number;
  /**
   * Count into these metrics (activities, ledger transactions). Logs per cycle and per grant are written
   * either way. @default none: no metrics
   */
  metrics?: QuartermasterMetrics;
}

function ledgerFor(
  url: string | undefined,
  schema: string | undefined,
  metrics: QuartermasterMetrics | undefined,
): LazyDatabase {
  if (url === undefined || url === '') {
    return {
      get: () => Promise.reject(new DatabaseNotConfiguredError()),
      close: () => Promise.resolve(),
    };
  }
  return lazyDatabase({
    connectionString: url,
    schema,
    ...(metrics ? { observer: metrics.observeTransaction } : {}),
  });
}

/**
 * A numeric plugin option: the option, else the environment variable `env`, else `fallback`; it must pass
 * `valid` (which `expected` describes).
 * @throws InvalidLedgerArgumentError naming the option (or the variable) and the bad value.
 */
function numberOption(
  name: string,
  option: number | undefined,
  env: string,
  fallback: number,
  valid: (x: number) => boolean,
  expected: string,
): number {
  const text = process.env[env];
  const [path, value] =
    option !== undefined
      ? [name, option]
      : text !== undefined && text !== ''
        ? [env, Number(text)]
        : [name, fallback];
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value))
    throw new InvalidLedgerArgumentError(path, option ?? text, expected);
  return value;
}

/**
 * The Temporal plugin that wires Quartermaster into a Worker (its activities; its workflows on the shared
 * task queue when the worker sets neither `workflowsPath` nor `workflowBundle`) and a Client. `qm worker`
 * uses it too.
 *
 * @example
 * const worker = await Worker.create({
 *   connection, taskQueue: 'quartermaster',
 *   plugins: [new QuartermasterPlugin({ handlers: [resize], databaseUrl: process.env.DATABASE_URL })],
 * });
 * // A worker with its own workflows: `export * from 'quartermaster/workflows'` in its workflows index.
 *
 * @throws DuplicateHandlerError when two handlers share a name; InvalidSchedulerOptionError for bad
 *   scheduler options; InvalidLedgerArgumentError for a bad `executionRetentionDays` or `successorHorizonMs`
 *   (all at construction).
 */
export class QuartermasterPlugin extends SimplePlugin {
  /** The handler registry the activities use. */
  readonly registry: HandlerRegistry;
  /** The ledger the activities use (opened on first use, closed when the last worker using it stops). */
  readonly ledger: LazyDatabase;
  /** The activity observer (metrics and logs); `flush()` waits for its pending ledger reads. */
  readonly observer: ActivityObserver;
  private readonly taskQueue: string;

  constructor(options: QuartermasterPluginOptions = {}) {
    const registry = new HandlerRegistry(options.handlers);
    const ledger = ledgerFor(
      options.databaseUrl ?? process.env.DATABASE_URL,
      options.schema ?? process.env.QM_SCHEMA,
      options.metrics,
    );
    const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    const activities = createActivities({
      registry,
      ledger,
      scheduler: {
        config: compileSchedulerConfig(options.scheduler ?? {}),
        workflowId:
          options.schedulerWorkflowId ??
          process.env.QM_SCHEDULER_WORKFLOW_ID ??
          DEFAULT_SCHEDULER_WORKFLOW_ID,
        taskQueue,
        leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
        staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
        executionRetentionDays: numberOption(
          'executionRetentionDays',
          options.executionRetentionDays,
          'QM_EXECUTION_RETENTION_DAYS',
          DEFAULT_EXECUTION_RETENTION_DAYS,
          (x) => x > 0,
          'a finite number of days > 0',
        ),
        successorHorizonMs: numberOption(
          'successorHorizonMs',
          options.successorHorizonMs,
          'QM_SUCCESSOR_HORIZON_MS',
          SUCCESSOR_HORIZON_MS,
          (x) => x >= 0 && x <= MAX_SUCCESSOR_HORIZON_MS,
          `a number of ms from 0 to ${MAX_SUCCESSOR_HORIZON_MS}`,
        ),
      },
    });
    // Watches the activities from outside (metrics, a log line per cycle and per grant).
    const observer = new ActivityObserver({
      metrics: options.metrics,
      isKnownHandler: (name) => registry.names().includes(name),
    });
    // The ledger is shared by every Worker built with this plugin: close it when the last one stops.
    let running = 0;
    super({
      name: 'quartermaster',
      activities,
      workerInterceptors: { activity: [observer.factory] },
      runContext: async (next) => {
        running += 1;
        try {
          await next();
        } finally {
          running -= 1;
          if (running === 0) await ledger.close();
        }
      },
    });
    this.registry = registry;
    this.ledger = ledger;
    this.observer = observer;
    this.taskQueue = taskQueue;
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    // Node task queues run activities only; the shared queue also runs the workflows.
    if (configured.taskQueue !== this.taskQueue) return configured;
    if (configured.workflowsPath === undefined && configured.workflowBundle === undefined) {
      return { ...configured, workflowsPath: workflowsPath() };
    }
    return configured;
  }
}
