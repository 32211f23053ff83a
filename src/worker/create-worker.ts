import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../config';
import type { StageHandlerDefinition } from '../handlers/types';
import { QuartermasterPlugin } from '../plugin';

/** Options for {@link createQuartermasterWorker}. */
export interface QuartermasterWorkerOptions {
  /** An open connection to Temporal. */
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  /** @default 'quartermaster' */
  taskQueue?: string;
  /** Your stage handlers. */
  handlers?: readonly StageHandlerDefinition[];
  /** Prebuilt workflow code (tests bundle once); by default the worker bundles Quartermaster's workflows. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Anything else for `Worker.create`. */
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * A Worker wired through {@link QuartermasterPlugin}: exactly what users get by adding the plugin to
 * their own Worker. Used by `qm worker`, `qm dev` and the tests.
 * @throws whatever `Worker.create` throws (e.g. the namespace does not exist).
 */
export function createQuartermasterWorker(options: QuartermasterWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...options.workerOptions,
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    plugins: [
      new QuartermasterPlugin({ handlers: options.handlers }),
      ...(options.workerOptions?.plugins ?? []),
    ],
  });
}
