import { hostname } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { registerDefinition } from '../../ledger/definitions';
import { openDatabase } from '../../ledger/db';
import { startEmbeddedPostgres } from '../../ledger/embedded';
import { projectRoot } from '../../services/project-root';
import { supervise } from '../../services/supervise';
import { startTemporalDevServer } from '../../services/temporal-dev-server';
import { clearDevState, dataDir, writeDevState } from '../dev-state';
import { loadValidDefinition } from './definitions';
import { submitCommand } from './pipelines';
import { announceMetrics, startWorker } from './worker';

/** Options of `qm dev`. */
export interface DevOptions {
  ip: string;
  port: string;
  uiPort: string;
  headless?: boolean;
  pgPort: string;
  demo?: boolean;
  exit?: boolean;
  handlers?: string[];
  node?: string;
  capacity?: string;
  monitor?: boolean;
  /** `--metrics-port P`: the worker serves Prometheus metrics (else `QM_METRICS_PORT`). */
  metricsPort?: string;
  /** `--metrics-host`. @default '127.0.0.1' */
  metricsHost?: string;
}

function port(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`--${name} must be a port number (got ${text})`);
  return n;
}

/**
 * `qm dev`: a Temporal dev server with the Web UI (state in `.data/temporal.db`), an embedded PostgreSQL
 * (`.data/pg`) unless DATABASE_URL is set, and a worker — everything a laptop needs. With `--demo` it then
 * registers and runs `examples/demo.json`, printing progress, the result and where to see it in the UI.
 */
export async function devCommand(options: DevOptions): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const data = dataDir();
  const uiPort = options.headless ? null : port('ui-port', options.uiPort);
  log(`qm dev: starting Temporal and PostgreSQL (state under ${data})`);
  // Both are supervised: a service that dies is restarted (same ports, same data) with a line saying so.
  const temporalOptions = {
    ip: options.ip,
    port: port('port', options.port),
    uiPort,
    dbFilename: path.join(data, 'temporal.db'),
    log,
  };
  const pgOptions = { dataDir: path.join(data, 'pg'), port: port('pg-port', options.pgPort) };
  const [temporalSupervisor, pgSupervisor] = await Promise.all([
    supervise('Temporal dev server', () => startTemporalDevServer(temporalOptions), { log }),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : supervise('PostgreSQL', () => startEmbeddedPostgres(pgOptions), { log }),
  ]);
  const temporal = temporalSupervisor.current();
  const postgres = pgSupervisor?.current();
  const databaseUrl = process.env.DATABASE_URL ?? (postgres?.connectionString as string);
  const db = await openDatabase({ connectionString: databaseUrl });
  writeDevState({ temporalAddress: temporal.address, uiUrl: temporal.uiUrl, databaseUrl, pid: process.pid });
  const { worker, connection } = await startWorker({
    taskQueue: 'quartermaster',
    handlers: options.handlers,
    address: temporal.address,
    databaseUrl,
    node: options.node ?? hostname(),
    capacity: options.capacity,
    // A laptop's own foreground load (IDE, browser, builds) should not starve local pipelines: qm dev
    // accounts by grants alone unless asked to monitor. Production workers (qm worker) monitor by default.
    monitor: options.monitor === true,
    ...(options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort }),
    metricsHost: options.metricsHost ?? '127.0.0.1',
  });
  const running = worker.run();
  announceMetrics(worker, log);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await db.close();
    await Promise.all([temporalSupervisor.stop(), pgSupervisor?.stop()]);
    clearDevState();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  log(
    `qm dev ready: Temporal ${temporal.address}${temporal.uiUrl ? `, Web UI ${temporal.uiUrl}` : ''}, PostgreSQL ${redact(databaseUrl)}`,
  );

  if (options.demo) {
    const file = path.join(projectRoot(), 'examples', 'demo.json');
    const def = loadValidDefinition(file);
    const stored = await registerDefinition(db, def.name, def, new Date());
    log(`registered "${def.name}" version ${stored.version}; submitting it`);
    const workflowId = `${def.name}-demo-${Date.now()}`;
    await submitCommand(def.name, { id: workflowId, wait: true }, log);
    if (temporal.uiUrl)
      log(`see it in the Web UI: ${temporal.uiUrl}/namespaces/default/workflows/${workflowId}`);
    if (options.exit) {
      await stop();
      return;
    }
  }
  log('press Ctrl-C to stop');
  await running.catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  await stop();
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:]+):[^@]+@/, '://$1:***@');
}

/** Adds `dev`. */
export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run a local Temporal dev server + Web UI, an embedded PostgreSQL and a worker')
    .option('--ip <address>', 'address Temporal and the UI listen on', '127.0.0.1')
    .option('--port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--headless', 'no Web UI')
    .option('--pg-port <port>', 'embedded PostgreSQL port', '55432')
    .option('--handlers <module...>', 'modules exporting stage handlers made with defineStage()')
    .option('--node <id>', "the worker's node id (default: this host's name)")
    .option('--capacity <list>', "the node's capacity, e.g. cpu=4,memoryMb=8192 (default: detected)")
    .option(
      '--monitor',
      "also plan on this host's measured load (off by default: your own desktop load would starve local pipelines)",
    )
    .option('--metrics-port <port>', "serve the worker's Prometheus metrics on /metrics (or QM_METRICS_PORT)")
    .option('--metrics-host <address>', 'address the metrics endpoint listens on', '127.0.0.1')
    .option('--demo', 'register and run examples/demo.json, then keep serving')
    .option('--exit', 'with --demo: stop everything once the demo finished')
    .action((opts: DevOptions) => devCommand(opts));
}
