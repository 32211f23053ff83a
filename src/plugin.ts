import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { HandlerRegistry } from './handlers/registry';
import type { StageHandlerDefinition } from './handlers/types';
import { workflowsPath } from './worker/workflows-path';

/** Options for {@link QuartermasterPlugin}. */
export interface QuartermasterPluginOptions {
  /** Your stage handlers (from `defineStage`); the `qm.*` built-ins are always registered. @default [] */
  handlers?: readonly StageHandlerDefinition[];
}

/**
 * The Temporal plugin that wires Quartermaster into a Worker (its activities, and its workflows when the
 * worker sets neither `workflowsPath` nor `workflowBundle`) and a Client. `qm worker` uses it too.
 *
 * @example
 * const worker = await Worker.create({
 *   connection, taskQueue: 'quartermaster',
 *   plugins: [new QuartermasterPlugin({ handlers: [resize] })],
 * });
 * // A worker with its own workflows: `export * from 'quartermaster/workflows'` in its workflows index.
 *
 * @throws DuplicateHandlerError (at construction) when two handlers share a name.
 */
export class QuartermasterPlugin extends SimplePlugin {
  /** The handler registry the activities use. */
  readonly registry: HandlerRegistry;

  constructor(options: QuartermasterPluginOptions = {}) {
    const registry = new HandlerRegistry(options.handlers);
    super({ name: 'quartermaster', activities: createActivities({ registry }) });
    this.registry = registry;
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    if (configured.workflowsPath === undefined && configured.workflowBundle === undefined) {
      return { ...configured, workflowsPath: workflowsPath() };
    }
    return configured;
  }
}
