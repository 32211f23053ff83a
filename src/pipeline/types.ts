import type { PipelineDefinition, ResourceVector } from '../definition/types';
import type { JsonValue } from '../handlers/types';
import type { ActiveBoost, BoostBookCarry, IgnoredBoost } from '../boosts/boost-book';
import type { ShardCoverage, ShardState } from '../sharding/tracker';

/** The single argument of `pipelineWorkflow` (plain JSON, so every SDK client and the CLI can start it). */
export interface PipelineInput {
  /** The pipeline definition; validated again inside the workflow. */
  definition: PipelineDefinition;
  /** Run input, given to every handler as `pipelineInput`. @default null */
  input?: JsonValue;
  /** Overrides the definition's base importance for this run. */
  importance?: number;
  /**
   * Internal: the state a run hands to the next when it continues as new (set only by `pipelineWorkflow`
   * itself; a client never sends it).
   */
  carry?: PipelineCarry;
}

/** What a pipeline run carries into its next run when Temporal suggests continue-as-new. */
export interface PipelineCarry {
  /** Every stage's state (none in flight: the run drains its stages before switching). */
  stages: Record<string, StageState>;
  /** Active boosts and ignored-boost summaries. */
  boosts: BoostBookCarry;
  /** Admin capability nonces still remembered (nonce → expiry, epoch ms), so none can be replayed. */
  nonces: Record<string, number>;
  /** How many runs came before this one. */
  runs: number;
}

/**
 * Where a stage is. `partial`: a sharded stage with `partial: "allow"` whose output reduces only the shards
 * that completed (see its `coverage`); stages depending on it still run.
 */
export type StageStatus =
  'pending' | 'waiting' | 'running' | 'completed' | 'partial' | 'failed' | 'skipped' | 'cancelled';

/** One stage's state, as the `status` query and the result report it. */
export interface StageState {
  status: StageStatus;
  /** Attempts made so far, counting the one in progress (0 before the first starts). */
  attempts: number;
  /** ISO-8601 time the stage started running. */
  startedAt?: string;
  /** ISO-8601 time it completed or failed. */
  completedAt?: string;
  /** The handler's output, once completed. */
  output?: JsonValue;
  /** Why it waits for resources (the scheduler's reason), while `waiting`. */
  waitReason?: string;
  /** While `waiting`, when the scheduler expects it to start (ISO-8601); `null` when unknown; absent when not told. */
  estimatedStartAt?: string | null;
  /** Why it failed or was skipped. */
  error?: string;
  /** What it ran with. */
  allocation?: ResourceVector;
  /** The node it ran on. */
  node?: string;
  /** Each shard's state and node, for a sharded stage (in index order). */
  shards?: ShardState[];
  /** Which shards and items the output covers, for a sharded stage once it ended. */
  coverage?: ShardCoverage;
}

/** The pipeline's overall state. `cancelled`: the run was cancelled (its unfinished stages are `cancelled` too). */
export type PipelineState = 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';

/** `pipelineWorkflow`'s result (and, when it fails, the first detail of its `PipelineFailedError`). */
export interface PipelineResult {
  status: Exclude<PipelineState, 'running'>;
  stages: Record<string, StageState>;
}

/** What the `status` query returns. */
export interface PipelineStatus {
  name: string;
  state: PipelineState;
  /** Base importance plus active boosts. */
  importance: number;
  stages: Record<string, StageState>;
  /** Active boosts. */
  boosts?: ActiveBoost[];
  /** Boost signals that were ignored (invalid or over the cap): the newest 20, as bounded summaries. */
  ignoredBoosts?: IgnoredBoost[];
  /** How many boost signals were ignored in all. */
  ignoredBoostCount?: number;
}
