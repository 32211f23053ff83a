import type { Client } from '@temporalio/client';
import { wakeSignal } from '../src/admission/messages';

/** Where the singleton scheduler runs. */
export interface SchedulerAddress {
  /** Its workflow id. */
  workflowId: string;
  /** The task queue it runs on. */
  taskQueue: string;
}

/**
 * Wakes the singleton scheduler (starting it when it is not running) so it runs a cycle now: after a request
 * is recorded, capacity is released, a boost lands or a running stage accepted a smaller allocation.
 */
export async function wakeScheduler(client: Client, scheduler: SchedulerAddress): Promise<void> {
  await client.workflow.signalWithStart('schedulerWorkflow', {
    workflowId: scheduler.workflowId,
    taskQueue: scheduler.taskQueue,
    args: [{}],
    signal: wakeSignal,
    signalArgs: [],
    staticSummary: 'Quartermaster scheduler: admits stages by Workflow Score',
  });
}
