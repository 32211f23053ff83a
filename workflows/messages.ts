import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineStatus } from '../src/pipeline/types';
import type { AdmissionDecision } from '../src/scheduler/types';
import type { RankedEntry } from '../src/scheduling/types';

/** `status` query on `pipelineWorkflow`: the pipeline's state and every stage's. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** `reservationDecision` signal to a requesting workflow: the scheduler granted (or sharded) a request. */
export const reservationDecisionSignal = defineSignal<[AdmissionDecision]>('reservationDecision');

/** `wake` signal to `schedulerWorkflow`: something changed, run a cycle soon. */
export const wakeSignal = defineSignal<[]>('wake');

/** `queue` query on `schedulerWorkflow`: the ranked pending requests with score breakdowns. */
export const queueQuery = defineQuery<SchedulerQueue>('queue');

/** What the `queue` query returns. */
export interface SchedulerQueue {
  /** ISO time of the last cycle. */
  lastCycleAt: string | null;
  /** Cycles run by this workflow run. */
  cycles: number;
  /** The ranked queue as of the last cycle. */
  entries: RankedEntry[];
}
