import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { StageHandlerDefinition } from '../src/handlers/types';
import { startEmbeddedPostgres } from '../src/ledger/embedded';
import { freePort } from '../src/services/free-port';
import { startTemporalDevServer } from '../src/services/temporal-dev-server';
import {
  createQuartermasterWorker,
  type NodeOptions,
  type QuartermasterWorker,
} from '../src/worker/create-worker';

/** A real one-node cluster for an end-to-end benchmark: dev server, PostgreSQL, one worker. */
export interface BenchCluster {
  client: Client;
  taskQueue: string;
  /** The ledger's PostgreSQL and schema. */
  databaseUrl: string;
  schema: string;
  /** Stops everything and removes the temporary folder. */
  close(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Starts a Temporal dev server, an embedded PostgreSQL (unless DATABASE_URL is set) and one Quartermaster
 * worker per node, in this process.
 */
export async function startBenchCluster(options: {
  name: string;
  /** The first node also polls the shared queue; the others poll only their own. */
  nodes: NodeOptions[];
  handlers?: StageHandlerDefinition[];
}): Promise<BenchCluster> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), `qm-bench-${options.name}-`));
  chmodSync(tmp, 0o755); // the postgres OS user must traverse it
  const [temporalServer, pg] = await Promise.all([
    startTemporalDevServer(),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port })),
  ]);
  const taskQueue = `bench-${options.name}`;
  const nativeConnection = await NativeConnection.connect({ address: temporalServer.address });
  const databaseUrl = process.env.DATABASE_URL ?? (pg?.connectionString as string);
  const schema = `bench_${options.name}_${Date.now()}`;
  const workers: QuartermasterWorker[] = [];
  for (const [i, node] of options.nodes.entries()) {
    workers.push(
      await createQuartermasterWorker({
        connection: nativeConnection,
        taskQueue,
        databaseUrl,
        schema,
        node: { ...node, only: i > 0 },
        handlers: options.handlers,
      }),
    );
  }
  const running = Promise.all(workers.map((w) => w.run()));
  const connection = await Connection.connect({ address: temporalServer.address });
  return {
    client: new Client({ connection }),
    taskQueue,
    databaseUrl,
    schema,
    close: async () => {
      for (const w of workers) w.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      await Promise.all([temporalServer.stop(), pg?.stop()]);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
