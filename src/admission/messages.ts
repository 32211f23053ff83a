/**
 * The admission protocol's Temporal messages, defined once and imported by workflows and activities alike
 * (definitions are plain values, safe in the workflow sandbox and in activities).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AdmissionProgress, QueueRow } from './types';

/**
 * `wake` signal to `schedulerWorkflow`: something changed, run a cycle soon. Sent at most once per cycle
 * (deduplicated through the ledger's wake flag), never on a timer.
 */
export const wakeSignal = defineSignal<[]>('wake');

/** `queue` query on `schedulerWorkflow`: the ranked pending requests with score breakdowns. */
export const queueQuery = defineQuery<SchedulerQueue>('queue');

/** What the `queue` query returns. */
export interface SchedulerQueue {
  /** ISO time of the last cycle. */
  lastCycleAt: string | null;
  /** Cycles run by this workflow run. */
  cycles: number;
  /** The ranked queue as of the last cycle, with estimated starts on waiting rows. */
  entries: QueueRow[];
}

/**
 * `admissionProgress` signal (internal) from a waiting request to its workflow: why it waits. At most
 * `MAX_WAIT_REASON_UPDATES` per wait.
 */
export const admissionProgressSignal = defineSignal<[AdmissionProgress]>('admissionProgress');

/**
 * `allocationChanged` signal (internal) from a running stage's `runStage` activity to its pipeline: the stage
 * accepted a smaller allocation (graceful degradation) and the ledger recorded it, so `status` shows what it
 * holds now.
 */
export const allocationChangedSignal = defineSignal<[AllocationChange]>('allocationChanged');

/** What `allocationChanged` carries. */
export interface AllocationChange {
  /** The stage (not sharded: a shard's allocation is not in the parent's stage table). */
  stageId: string;
  /** Its attempt, so a late signal from an earlier attempt is ignored. */
  attempt: number;
  /** The allocation it holds now. */
  allocation: Record<string, number>;
}
