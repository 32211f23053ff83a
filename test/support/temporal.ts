import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { StageHandlerDefinition } from '../../src/handlers/types';
import { createQuartermasterWorker } from '../../src/worker/create-worker';
import { testEnv, uniqueId } from './env';

/** A running worker on its own task queue, plus a client, against the shared test server. */
export interface TestTemporal {
  client: Client;
  taskQueue: string;
  worker: Worker;
  /** Shuts the worker down and closes both connections. */
  close(): Promise<void>;
}

/**
 * Starts a worker (wired through the Quartermaster plugin, with the prebuilt bundle) on a unique task
 * queue and opens a client. Call `close()` in `afterAll`.
 */
let runtimeInstalled = false;

export async function startTestWorker(handlers: StageHandlerDefinition[] = []): Promise<TestTemporal> {
  if (!runtimeInstalled) {
    // Worker state changes are logged at INFO; keep test output to warnings and errors.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const taskQueue = uniqueId('qm-test');
  const nativeConnection = await NativeConnection.connect({ address: testEnv.temporalAddress });
  const worker = await createQuartermasterWorker({
    connection: nativeConnection,
    taskQueue,
    handlers,
    workflowBundle: { codePath: testEnv.workflowBundlePath },
    workerOptions: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: testEnv.temporalAddress });
  const client = new Client({ connection });
  return {
    client,
    taskQueue,
    worker,
    close: async () => {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}
