/**
 * What a simulation records: one row per stage, per execution (a stage run or a shard run), per pipeline,
 * the utilisation over time and the counters. Times are seconds since the start of the simulation.
 */
import type { ExpectedSource } from '../execution/learned';
import type { ResourceVector } from '../scheduling/types';
import type { PolicyName } from './policies';

/** One stage of one submitted pipeline. */
export interface StageRecord {
  /** Index of the submission (in time order). */
  readonly submission: number;
  /** The job's number: the SWF log's job number, else the submission index. */
  readonly job: number;
  /** CPU cores it asked for (`desired.cpu`, 0 when none). */
  readonly cpu: number;
  /** Pipeline name. */
  readonly pipeline: string;
  /** Stage id. */
  readonly stageId: string;
  /** Priority 1–10. */
  readonly priority: number;
  /** When its dependencies were done; `null` if never. */
  readyAt: number | null;
  /** When it (or its first shard) started; `null` if never. */
  startedAt: number | null;
  /** When it (all its shards) completed; `null` if never. */
  completedAt: number | null;
  /** The start time estimated when it first waited (`estimateStarts`); `null` when it never waited or had none. */
  estimatedStartAt: number | null;
  /** Shards it was split into (0 when it ran whole). */
  shards: number;
}

/**
 * One run on a node: a whole stage or one shard (the simulator's own bookkeeping; `toExecutionRecords`
 * turns runs into the ledger's `ExecutionRecord`s). Times are seconds on the simulation clock.
 */
export interface RunRecord {
  /** Reservation key. */
  readonly key: string;
  /** Index of the submission. */
  readonly submission: number;
  /** The pipeline's simulated workflow id (`s<submission>-<name>`). */
  readonly workflowId: string;
  /** The pipeline's definition name. */
  readonly definitionName: string;
  /** Stage id. */
  readonly stageId: string;
  /** The stage's handler. */
  readonly handler: string;
  /** Shard index, `null` for a whole stage. */
  readonly shardIndex: number | null;
  /** Node it ran on; `null` for a stage without resources. */
  readonly nodeId: string | null;
  /** Priority 1–10. */
  readonly priority: number;
  /** The pipeline's importance (base plus live boosts) when it was granted. */
  readonly importance: number;
  /** What it asked for. */
  readonly desired: ResourceVector;
  /** The least it accepted. */
  readonly minimum: ResourceVector;
  /** Its grant: at start, then after each shrink (so at the end, the final grant). */
  granted: ResourceVector;
  /** When its request reached the scheduler (a shard: its stage's request), seconds. */
  readonly requestedAt: number;
  /** When it was granted, seconds (its start less the start latency). */
  readonly grantedAt: number;
  /** Start, seconds. */
  readonly startedAt: number;
  /** End, seconds; `null` while running (only in an unfinished simulation). */
  completedAt: number | null;
  /** The run time the scheduler was told (its share for a shard), seconds; `null` when told none. */
  readonly expectedSeconds: number | null;
  /** Where `expectedSeconds` came from (declared by the workload, learned from history); `null` with none. */
  readonly expectedSource: ExpectedSource | null;
  /**
   * The start the scheduler estimated for its stage while it waited, seconds; set on the stage's first run
   * (the whole stage, or its first shard to start), else `null`.
   */
  readonly estimatedStartAt: number | null;
  /** Whether its grant was reduced (below desired). */
  readonly reduced: boolean;
  /** CPU cores granted at start. */
  readonly cpu: number;
  /** Later shrinks by graceful degradation: when, and the CPU after. */
  readonly shrinks: Array<{ readonly at: number; readonly cpu: number }>;
}

/**
 * A node's measured usage and forecast at one instant of the simulation (nodes with background load only:
 * they alone have a simulated monitor). Used = background + granted (a stage uses exactly its grant).
 */
export interface NodeSamplePoint {
  /** Seconds. */
  readonly t: number;
  /** Node id. */
  readonly nodeId: string;
  /** Resource → usage at `t`. */
  readonly used: Readonly<Record<string, number>>;
  /** Resource → the forecast made at `t` for `t + horizonSeconds`. */
  readonly forecast: Readonly<Record<string, number>>;
  /** The forecast's horizon, seconds. */
  readonly horizonSeconds: number;
}

/** One submitted pipeline. */
export interface PipelineRecord {
  /** Index of the submission. */
  readonly submission: number;
  /** Pipeline name. */
  readonly name: string;
  /** Submission time, seconds. */
  readonly submittedAt: number;
  /** When its last stage completed; `null` if never. */
  completedAt: number | null;
  /** Its highest stage priority (the weight of its completion time). */
  readonly weight: number;
}

/** Cluster-wide granted totals from `t` until the next point. */
export interface UtilizationPoint {
  /** Seconds. */
  readonly t: number;
  /** Resource → Σ granted (host resources over nodes, pools). */
  readonly granted: Readonly<Record<string, number>>;
  /** Whether some request was waiting. */
  readonly backlog: boolean;
}

/** How holds behaved over a run. */
export interface HoldStats {
  /** Times a request became a holder (started holding capacity it did not hold in the cycle before). */
  holderChanges: number;
  /** Of those, times a previous holder lost its hold while it still waited (capacity held for one, then another). */
  switchesWhileWaiting: number;
}

/** Event counters. */
export interface SimulationCounters {
  /** Cycles run. */
  cycles: number;
  /** Grants below desired. */
  reducedGrants: number;
  /** Stages split into shards. */
  shardedStages: number;
  /** Shards created. */
  shards: number;
  /** Shrink offers applied to running stages (graceful degradation). */
  degradations: number;
  /** Checks that found Σ granted above capacity on some node resource or pool (must stay 0). */
  overcommitEvents: number;
  /** Pipelines that completed with some shards dropped (never, in this model: nothing fails). */
  partialCompletions: number;
}

/** Everything one simulation recorded. */
export interface SimulationTrace {
  /** The policy. */
  readonly policy: PolicyName;
  /** Resource → cluster capacity (host resources summed over nodes, and pools). */
  readonly capacity: Readonly<Record<string, number>>;
  /** Node ids, in workload order. */
  readonly nodeIds: readonly string[];
  /** Node id → host capacity. */
  readonly nodeCapacity: Readonly<Record<string, Readonly<ResourceVector>>>;
  /** Per stage, in submission then definition order. */
  readonly stages: StageRecord[];
  /** Per execution, in start order (empty when not recorded). */
  readonly executions: RunRecord[];
  /** Usage and forecast samples of nodes with background load (empty when not recorded). */
  readonly nodeSamples: NodeSamplePoint[];
  /** Per pipeline, in submission order. */
  readonly pipelines: PipelineRecord[];
  /** Utilisation steps (empty when not recorded). */
  readonly utilization: UtilizationPoint[];
  /** Seconds during which some request was waiting. */
  backlogSeconds: number;
  /** Resource → ∫ Σ granted dt over the backlog time (unit · seconds). */
  readonly grantedDuringBacklog: Record<string, number>;
  /** Resource → ∫ Σ granted dt over the whole run. */
  readonly grantedTotal: Record<string, number>;
  /** Resource → ∫ Σ held dt: capacity free but held for a blocked request (unit · seconds). */
  readonly heldTotal: Record<string, number>;
  /** Hold statistics. */
  readonly holdStats: HoldStats;
  /** Counters. */
  readonly counters: SimulationCounters;
  /** Time of the last event processed, seconds. */
  endedAt: number;
  /** The starvation bound of the policy's config, seconds (`Infinity` when not enforced). */
  readonly starvationBoundSeconds: number;
}
