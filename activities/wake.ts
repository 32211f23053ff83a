import type { Client } from '@temporalio/client';
import { SCHEDULER_STALE_MS } from '../src/admission/constants';
import { wakeSignal } from '../src/admission/messages';
import { claimWake } from '../src/ledger/admission';
import type { Database } from '../src/ledger/db';

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

/**
 * Wakes the scheduler unless a wake is already on its way (at most one outstanding: the ledger's wake flag,
 * see `claimWake`); with `onlyIfPending`, only when some request is pending (a release with nobody waiting
 * wakes nobody).
 * @throws DatabaseUnavailableError; the client's error when the signal fails.
 */
export async function wakeOnce(
  db: Database,
  client: Client,
  scheduler: SchedulerAddress,
  onlyIfPending: boolean,
): Promise<void> {
  if (!(await claimWake(db, { onlyIfPending, schedulerStaleMs: SCHEDULER_STALE_MS }))) return;
  await wakeScheduler(client, scheduler);
}
