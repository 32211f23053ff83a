import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BoostRequest } from '../src/boosts/boost-request';
import type { PipelineStatus } from '../src/pipeline/types';

export {
  admissionProgressSignal,
  allocationChangedSignal,
  queueQuery,
  wakeSignal,
  type AllocationChange,
  type SchedulerQueue,
} from '../src/admission/messages';

/** `status` query on `pipelineWorkflow`: the pipeline's state and every stage's. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** `boost` update on `pipelineWorkflow`: temporarily raise its importance. Invalid boosts are rejected by the validator and never reach history. */
export const boostUpdate = defineUpdate<BoostResult, [BoostRequest]>('boost');

/** `boost` signal: the same for clients that only signal; invalid ones are ignored and shown in `status`. */
export const boostSignal = defineSignal<[BoostRequest]>('boost');

/** What the `boost` update returns. */
export interface BoostResult {
  /** The pipeline's importance now (base + active boosts). */
  importance: number;
  /** ISO-8601 time this boost expires. */
  expiresAt: string;
}

/** `shardProgress` signal from a `shardWorkflow` to its parent: an attempt of the shard started running. */
export const shardProgressSignal = defineSignal<[ShardProgress]>('shardProgress');

/** What a shard reports to its parent (one signal per attempt, so a stage of N shards adds ~N events). */
export interface ShardProgress {
  /** The sharded stage. */
  stageId: string;
  /** Shard index. */
  index: number;
  /** The attempt that started. */
  attempt: number;
  /** The node it runs on (absent for a stage without resources). */
  node?: string;
}
