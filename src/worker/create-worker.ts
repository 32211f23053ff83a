import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../config';
import { ADMISSION_WORKER_SLOTS, admissionTaskQueue } from '../admission/constants';
import { readLedgerMetrics } from '../ledger/metrics-queries';
import { nodeTaskQueue } from '../ledger/nodes';
import type { ResourceVector } from '../ledger/types';
import { ForecastErrorTracker } from '../metrics/forecast-error';
import { registerLedgerGauges } from '../metrics/ledger-gauges';
import { compileMetricsOptions, type CompiledMetricsOptions, type MetricsOptions } from '../metrics/options';
import { QuartermasterMetrics } from '../metrics/quartermaster-metrics';
import { startMetricsServer, type MetricsServer } from '../metrics/server';
import { QuartermasterPlugin, type QuartermasterPluginOptions } from '../plugin';
import { NodeAgent } from './node-agent';

/** This worker as a node of the cluster: it registers in the ledger and runs stages granted on it. */
export interface NodeOptions {
  /** Node id, unique in the cluster (e.g. the host name). */
  id: string;
  /** Declared capacity (`--capacity cpu=4,memoryMb=8192`). @default detected (cgroup-aware) */
  capacity?: ResourceVector;
  /** Sample and publish usage + forecasts to the ledger. @default true */
  monitor?: boolean;
  /** Poll only the node's queue, not the shared one (a dedicated compute host). @default false */
  only?: boolean;
}

/** Options for {@link createQuartermasterWorker}. */
export interface QuartermasterWorkerOptions extends Omit<QuartermasterPluginOptions, 'metrics'> {
  /** An open connection to Temporal. */
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  /** Run as this node (polls `quartermaster-node-<id>` too). @default not a node: only the shared queue */
  node?: NodeOptions;
  /** Prebuilt workflow code (tests bundle once); by default the worker bundles Quartermaster's workflows. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Anything else for `Worker.create`. */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * Serve Prometheus metrics on `/metrics` while the worker runs (`qm worker --metrics-port`). Validated at
   * creation. @default none: no metrics endpoint
   */
  metrics?: MetricsOptions;
}

/**
 * One Quartermaster worker process: a Temporal Worker on the shared task queue (pipelines, the scheduler,
 * stages without resources) and, as a node, a second one on the node's own queue (stages granted there)
 * plus the {@link NodeAgent} that keeps the node's row in the ledger alive. Both Workers are wired
 * through {@link QuartermasterPlugin}.
 */
export class QuartermasterWorker {
  private constructor(
    /** The Temporal Workers (shared queue first, unless node-only). */
    readonly workers: readonly Worker[],
    /** The plugin (registry, ledger). */
    readonly plugin: QuartermasterPlugin,
    private readonly agent: NodeAgent | undefined,
    /** The metrics this worker counts into, when it serves them. */
    readonly metrics: QuartermasterMetrics | undefined,
    private readonly metricsOptions: CompiledMetricsOptions | undefined,
  ) {}

  private metricsServer: MetricsServer | undefined;

  /** URL of the running `/metrics` endpoint (with the port actually bound), once {@link run} started it. */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /**
   * @throws whatever `Worker.create` throws (e.g. the namespace does not exist); DatabaseUnavailableError or
   *   DatabaseNotConfiguredError when a node cannot reach the ledger; InvalidMetricsOptionError for bad
   *   `metrics` options.
   */
  static async create(options: QuartermasterWorkerOptions): Promise<QuartermasterWorker> {
    const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    const metricsOptions = options.metrics ? compileMetricsOptions(options.metrics) : undefined;
    const metrics = metricsOptions
      ? new QuartermasterMetrics({ processMetrics: metricsOptions.processMetrics })
      : undefined;
    const plugin = new QuartermasterPlugin({ ...options, taskQueue, metrics });
    if (metrics && metricsOptions?.ledgerGauges) {
      registerLedgerGauges(metrics.registry, {
        read: async () => readLedgerMetrics(await plugin.ledger.get()),
      });
    }
    const common = {
      ...options.workerOptions,
      connection: options.connection,
      namespace: options.namespace ?? 'default',
      plugins: [plugin, ...(options.workerOptions?.plugins ?? [])],
    };
    const workers: Worker[] = [];
    if (!options.node?.only) {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
        }),
      );
      // Waiting stages' activities, on a queue of their own with room for thousands (see admissionTaskQueue).
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: admissionTaskQueue(taskQueue),
          maxConcurrentActivityTaskExecutions: ADMISSION_WORKER_SLOTS,
          maxConcurrentActivityTaskPolls: 10,
        }),
      );
    }
    let agent: NodeAgent | undefined;
    if (options.node) {
      const nodeQueue = nodeTaskQueue(options.node.id);
      workers.push(await Worker.create({ ...common, taskQueue: nodeQueue }));
      const nodeId = options.node.id;
      const tracker = metrics
        ? new ForecastErrorTracker((resource, horizon, error) =>
            metrics.setForecastError(nodeId, resource, horizon, error),
          )
        : undefined;
      agent = new NodeAgent({
        db: await plugin.ledger.get(),
        nodeId,
        taskQueue: nodeQueue,
        capacity: options.node.capacity,
        monitor: options.node.monitor,
        ...(tracker ? { onSnapshot: (snapshot) => tracker.observe(snapshot) } : {}),
      });
    }
    return new QuartermasterWorker(workers, plugin, agent, metrics, metricsOptions);
  }

  /**
   * Runs until {@link shutdown} (or a shutdown signal): starts the metrics endpoint (when configured) and the
   * node agent, then the Workers; stops them in reverse.
   * @throws MetricsServerError when the metrics port cannot be bound; whatever a Worker throws.
   */
  async run(): Promise<void> {
    if (this.metrics && this.metricsOptions) {
      this.metricsServer = await startMetricsServer({
        metrics: this.metrics,
        port: this.metricsOptions.port,
        host: this.metricsOptions.host,
        ...(this.metricsOptions.temporalMetricsUrl
          ? { temporalMetricsUrl: this.metricsOptions.temporalMetricsUrl }
          : {}),
      });
    }
    try {
      await this.runWorkers();
    } finally {
      await this.metricsServer?.close();
    }
  }

  private async runWorkers(): Promise<void> {
    await this.agent?.start();
    try {
      await Promise.all(
        this.workers.map((w) =>
          w.run().catch((err: unknown) => {
            this.shutdown(); // one Worker failing takes the process's other one down with it
            throw err;
          }),
        ),
      );
    } finally {
      await this.agent?.stop();
    }
  }

  /** Starts a graceful shutdown of every Worker. */
  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }
}

/** Creates a {@link QuartermasterWorker}. @throws as {@link QuartermasterWorker.create}. */
export function createQuartermasterWorker(options: QuartermasterWorkerOptions): Promise<QuartermasterWorker> {
  return QuartermasterWorker.create(options);
}
