import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import { DEFAULT_TASK_QUEUE, temporalSettings } from '../../config';
import type { StageHandlerDefinition } from '../../handlers/types';
import { metricsPortFromEnv, parseMetricsPort } from '../../metrics/options';
import { createQuartermasterWorker, type QuartermasterWorker } from '../../worker/create-worker';
import { UsageError } from '../context';
import { readDevState } from '../dev-state';
import { cliTemporalMetricsUrl } from '../runtime';

function isHandlerDefinition(value: unknown): value is StageHandlerDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StageHandlerDefinition).name === 'string' &&
    typeof (value as StageHandlerDefinition).run === 'function'
  );
}

/**
 * Loads stage handlers from modules: every export made with `defineStage` (or an exported array of them).
 * @throws UsageError when a module cannot be loaded or exports no handler.
 */
export function loadHandlerModules(modules: readonly string[]): StageHandlerDefinition[] {
  const handlers: StageHandlerDefinition[] = [];
  for (const m of modules) {
    let exported: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(path.resolve(m)) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--handlers ${m}: cannot load it (${(err as Error).message})`);
    }
    const found = Object.values(exported)
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter(isHandlerDefinition);
    if (found.length === 0)
      throw new UsageError(`--handlers ${m}: it exports no handler made with defineStage()`);
    handlers.push(...found);
  }
  return handlers;
}

/** Options of `qm worker`. */
export interface WorkerCommandOptions {
  taskQueue: string;
  handlers?: string[];
  /** Run as this node. */
  node?: string;
  /** Declared capacity, `cpu=4,memoryMb=8192`. */
  capacity?: string;
  /** `--no-monitor`: do not sample or publish usage. */
  monitor?: boolean;
  /** `--node-only`: poll only the node's queue. */
  nodeOnly?: boolean;
  /** `--metrics-port P`: serve Prometheus metrics on `/metrics` (else `QM_METRICS_PORT`). */
  metricsPort?: string;
  /** `--metrics-host`: the address the metrics endpoint listens on. @default '0.0.0.0' */
  metricsHost?: string;
}

/**
 * The metrics options of a worker command: `--metrics-port`, else `QM_METRICS_PORT`; none when neither is set.
 * @throws UsageError when the port is not an integer 1–65535.
 */
export function metricsOptionsOf(
  options: Pick<WorkerCommandOptions, 'metricsPort' | 'metricsHost'>,
  env: NodeJS.ProcessEnv = process.env,
): { port: number; host?: string; temporalMetricsUrl?: string } | undefined {
  let port: number | undefined;
  try {
    port = parseMetricsPort(options.metricsPort, '--metrics-port') ?? metricsPortFromEnv(env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (port === undefined) return undefined;
  const temporalMetricsUrl = cliTemporalMetricsUrl();
  return {
    port,
    ...(options.metricsHost === undefined ? {} : { host: options.metricsHost }),
    ...(temporalMetricsUrl === undefined ? {} : { temporalMetricsUrl }),
  };
}

/**
 * Parses `--capacity cpu=4,memoryMb=8192` into a resource vector.
 * @throws UsageError naming the bad entry.
 */
export function parseCapacity(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^([A-Za-z][A-Za-z0-9_:.-]*)=(.+)$/.exec(part);
    const value = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isFinite(value) || value < 0) {
      throw new UsageError(
        `--capacity: "${part}" is not NAME=NUMBER with a number >= 0 (e.g. cpu=4,memoryMb=8192)`,
      );
    }
    out[m[1] as string] = value;
  }
  if (Object.keys(out).length === 0) throw new UsageError('--capacity is empty (e.g. cpu=4,memoryMb=8192)');
  return out;
}

/**
 * Starts a worker on the shared task queue and runs it until SIGINT/SIGTERM.
 * @throws UsageError for unloadable handler modules; connection errors when Temporal is unreachable.
 */
export async function startWorker(
  options: WorkerCommandOptions & { address?: string; databaseUrl?: string },
): Promise<{ worker: QuartermasterWorker; connection: NativeConnection }> {
  const handlers = loadHandlerModules(options.handlers ?? []);
  if ((options.capacity !== undefined || options.nodeOnly) && options.node === undefined) {
    throw new UsageError('--capacity and --node-only need --node ID');
  }
  const capacity = options.capacity === undefined ? undefined : parseCapacity(options.capacity);
  const metrics = metricsOptionsOf(options);
  const dev = process.env.TEMPORAL_ADDRESS === undefined ? readDevState() : undefined;
  const settings = temporalSettings({ address: options.address ?? dev?.temporalAddress });
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const worker = await createQuartermasterWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: options.taskQueue,
    handlers,
    databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL ?? dev?.databaseUrl,
    ...leaseFromEnv(),
    ...(metrics ? { metrics } : {}),
    ...(options.node
      ? {
          node: {
            id: options.node,
            capacity,
            monitor: options.monitor !== false,
            only: options.nodeOnly === true,
          },
        }
      : {}),
  });
  return { worker, connection };
}

/**
 * `QM_LEASE_MS` (every worker of a cluster must agree): the lease of a request, ms. Absent: the default.
 * @throws UsageError for a value that is not a number of ms ≥ 1000.
 */
function leaseFromEnv(): { leaseMs?: number } {
  const raw = process.env.QM_LEASE_MS;
  if (raw === undefined || raw === '') return {};
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 1000)
    throw new UsageError(`QM_LEASE_MS must be a number of ms >= 1000 (got "${raw}")`);
  return { leaseMs: ms };
}

/** Prints where the metrics are served, once the endpoint listens (it starts first in `run()`). */
export function announceMetrics(
  worker: QuartermasterWorker,
  log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): void {
  if (worker.metrics === undefined) return;
  const started = Date.now();
  const poll = setInterval(() => {
    if (worker.metricsUrl !== undefined) log(`qm: metrics on ${worker.metricsUrl}`);
    if (worker.metricsUrl !== undefined || Date.now() - started > 10_000) clearInterval(poll);
  }, 50);
  poll.unref();
}

/** Adds `worker`. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a Quartermaster worker (polls the shared task queue)')
    .option('--task-queue <queue>', 'task queue to poll', DEFAULT_TASK_QUEUE)
    .option('--handlers <module...>', 'modules exporting stage handlers made with defineStage()')
    .option('--node <id>', 'run as this node: register in the ledger and run stages granted here')
    .option('--capacity <list>', "the node's capacity, e.g. cpu=4,memoryMb=8192 (default: detected)")
    .option('--no-monitor', 'do not sample and publish usage forecasts (declared capacity only)')
    .option('--node-only', "poll only the node's queue (a dedicated compute host)")
    .option('--metrics-port <port>', 'serve Prometheus metrics on /metrics at this port (or QM_METRICS_PORT)')
    .option('--metrics-host <address>', 'address the metrics endpoint listens on', '0.0.0.0')
    .action(async (opts: WorkerCommandOptions) => {
      const { worker, connection } = await startWorker(opts);
      // The Temporal runtime shuts workers down on SIGINT/SIGTERM by itself.
      process.stderr.write(
        `qm worker polling "${opts.taskQueue}"${opts.node ? ` and node "${opts.node}"'s queue` : ''}\n`,
      );
      try {
        const running = worker.run();
        announceMetrics(worker);
        await running;
      } finally {
        await connection.close();
      }
    });
}
