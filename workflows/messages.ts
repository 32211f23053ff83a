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

/**
 * What the Web UI's signal, update and query pickers show for each handler. Internal handlers say so: they
 * are Quartermaster's own plumbing, not for users to send.
 */
export const DESCRIPTIONS = {
  /** `status` query. */
  status:
    'The pipeline: state, importance (base + active boosts), every stage (status, attempts, node, allocation, wait reason, error, shards), active and ignored boosts.',
  /** `boost` update. */
  boostUpdate:
    'Raise importance for a while: { amount (0 < amount ≤ 3, or ≤ 10 as admin), ttlSeconds (≤ 3600, or ≤ 86400 as admin), reason (≤ 500 chars), actor?, capability? }. Base + active boosts stay ≤ 10. Returns { importance, expiresAt }; invalid boosts are rejected.',
  /** `boost` signal. */
  boostSignal:
    'Same as the boost update for clients that can only signal: invalid or over-cap boosts are ignored and summarised in status.ignoredBoosts.',
  /** `admissionProgress` signal. */
  admissionProgress:
    "Internal (sent by a stage's waiting request, a few times per wait): why it waits. Do not send by hand.",
  /** `allocationChanged` signal. */
  allocationChanged:
    'Internal (sent by a running stage): it accepted a smaller allocation (graceful degradation). Do not send by hand.',
  /** `shardProgress` signal. */
  shardProgress:
    'Internal (sent by shard child workflows): a shard attempt started on a node. Do not send by hand.',
  /** `wake` signal. */
  wake: 'Internal (sent by stages and boosts): something changed, run a scheduling cycle soon.',
  /** `queue` query. */
  queue:
    'The ranked queue as of the last cycle: score and breakdown, decision, reason and estimated start per request; lastCycleAt and cycles.',
} as const;
