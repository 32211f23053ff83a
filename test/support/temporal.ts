import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { StageHandlerDefinition } from '../../src/handlers/types';
import type { SchedulerOptions } from '../../src/scheduling/config';
import {
  createQuartermasterWorker,
  type NodeOptions,
  type QuartermasterWorker,
} from '../../src/worker/create-worker';
import { testEnv, uniqueId } from './env';

/** A running worker plus a client, against the shared test server. */
export interface TestTemporal {
  client: Client;
  /** The shared task queue (unique per test worker unless given). */
  taskQueue: string;
  /** Workflow id of this test's scheduler (unique per shared task queue). */
  schedulerWorkflowId: string;
  worker: QuartermasterWorker;
  /** Shuts the worker down and closes both connections. */
  close(): Promise<void>;
}

/** Options of {@link startTestWorker}. */
export interface TestWorkerOptions {
  handlers?: StageHandlerDefinition[];
  /** Share another test worker's task queue (a second node of the same cluster). @default a new unique one */
  taskQueue?: string;
  /** Ledger schema (a test database's). @default none: stages with resources fail */
  schema?: string;
  /** The ledger's PostgreSQL, when not the shared test one (a server the test stops and starts). */
  databaseUrl?: string;
  /** The Temporal frontend, when not the shared test server (one the test stops and starts). */
  temporalAddress?: string;
  /** Run as this node. */
  node?: NodeOptions;
  /** Scheduler options. */
  scheduler?: SchedulerOptions;
  /** Lease length, ms. */
  leaseMs?: number;
  /** Stale time, ms. */
  staleAfterMs?: number;
  /** Successor grants' horizon, ms (0: none). @default the plugin's */
  successorHorizonMs?: number;
}

let runtimeInstalled = false;

/**
 * Starts a Quartermaster worker (the same assembly `qm worker` uses, with the prebuilt bundle) and opens a
 * client. Call `close()` in `afterAll`.
 */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<TestTemporal> {
  if (!runtimeInstalled) {
    // Worker state changes are logged at INFO; keep test output to warnings and errors.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const taskQueue = options.taskQueue ?? uniqueId('qm-test');
  const schedulerWorkflowId = `scheduler-${taskQueue}`;
  const address = options.temporalAddress ?? testEnv.temporalAddress;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createQuartermasterWorker({
    connection: nativeConnection,
    taskQueue,
    handlers: options.handlers,
    schedulerWorkflowId,
    ...(options.schema
      ? { databaseUrl: options.databaseUrl ?? testEnv.databaseUrl, schema: options.schema }
      : { databaseUrl: '' }),
    ...(options.node ? { node: options.node } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.staleAfterMs ? { staleAfterMs: options.staleAfterMs } : {}),
    ...(options.successorHorizonMs === undefined ? {} : { successorHorizonMs: options.successorHorizonMs }),
    workflowBundle: { codePath: testEnv.workflowBundlePath },
    workerOptions: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  let closed = false;
  return {
    client,
    taskQueue,
    schedulerWorkflowId,
    worker,
    close: async () => {
      if (closed) return;
      closed = true;
      worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
    },
  };
}
