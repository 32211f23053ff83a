/**
 * The pipeline definition language: what users write (JSON or YAML) and what `validateDefinition`
 * returns, normalised (defaults filled in). Every field is plain JSON so any Temporal SDK client can
 * start `pipelineWorkflow` with it.
 */

/** Resource name → non-negative quantity. Host resources: `cpu` (cores), `memoryMb`, `gpu` (devices),
 * `diskIoMBps`, `netMbps`; any other name is a cluster-wide custom pool (`db-connections`). */
export type ResourceVector = Record<string, number>;

/** What a stage asks for: `desired` is what it suggests, `minimum` the least it accepts. */
export interface StageResources {
  /** The allocation the stage would like. */
  desired: ResourceVector;
  /** The least it accepts; every key is in `desired` and not above it. @default desired */
  minimum?: ResourceVector;
  /**
   * Keep waiting when `minimum` exceeds the capacity of every registered node (a larger node may join);
   * otherwise such a request fails at once with `UnsatisfiableRequestError`. @default false
   */
  waitForLargerNodes?: boolean;
}

/** How a stage splits into shards when its resources cannot be met (or always, with `always`). */
export interface ShardSpec {
  /** `items`: split the array at `input[field]` into contiguous slices; `count`: run `count` times. */
  by: 'items' | 'count';
  /** The input field holding the array (required for `by: "items"`). */
  field?: string;
  /** Number of runs (required for `by: "count"`, integer 1–256). */
  count?: number;
  /**
   * Upper bound on the number of shards (integer 1–256). Ignored by `by: "count"`, which always runs `count`
   * shards. @default `count` for `by: "count"`; 16 for `by: "items"`
   */
  maxShards?: number;
  /** Smallest slice worth a shard (`by: "items"`). */
  minItemsPerShard?: number;
  /**
   * Reducer handler name: `qm.concat`, `qm.sum`, `qm.merge`, or a registered handler. A registered reducer
   * runs as an activity on the pipeline's task queue and receives `input: { results: [{ index, value }…],
   * coverage }` (completed shards only, in index order; `coverage` as in the stage's state) and must be
   * deterministic (a retry returns the same output). A shard whose output is large should write it
   * elsewhere and return a reference (e.g. a URI string): results travel through Temporal's history.
   */
  reassemble: string;
  /**
   * Whether a partial result is acceptable when some shards fail for good or `deadlineSeconds` passes:
   * `allow` reduces what completed and marks the stage (and the pipeline's result) `partial` with a coverage
   * report; `forbid` cancels the other shards and fails the stage naming the failed shards. @default 'forbid'
   */
  partial?: 'allow' | 'forbid';
  /** Shard up front even when the stage fits (`by: "count"`). @default false */
  always?: boolean;
  /** Per-shard resources; @default the stage's vector scaled by the shard's share. */
  resources?: StageResources;
}

/** Retry policy for a stage's handler (Temporal's activity retry policy, JSON-friendly). */
export interface RetrySpec {
  /** Attempts including the first; 0 means unlimited. @default 3 */
  maximumAttempts?: number;
  /** First retry delay in seconds. @default 1 */
  initialIntervalSeconds?: number;
  /** Delay multiplier between retries. @default 2 */
  backoffCoefficient?: number;
  /** Largest delay between retries in seconds. @default 30 */
  maximumIntervalSeconds?: number;
}

/** One stage of a pipeline. */
export interface StageDefinition {
  /** Unique within the pipeline: `[A-Za-z0-9_.-]{1,64}`. */
  id: string;
  /** The registered handler to run (`qm.sleep`, or one defined with `defineStage`). */
  handler: string;
  /** Integer 1 (lowest) – 10 (highest). */
  priority: number;
  /** Stages that must complete first. @default [] */
  dependsOn?: string[];
  /** Handler input (any JSON). @default {} */
  input?: unknown;
  /** Resources the stage needs. @default none (admitted at once) */
  resources?: StageResources;
  /** Sharding, when the stage can be split. */
  shard?: ShardSpec;
  /** Retry policy. */
  retry?: RetrySpec;
  /** Time limit of one attempt, in seconds. @default 600 */
  timeoutSeconds?: number;
  /** Deadline for the whole stage (all attempts and shards), in seconds. */
  deadlineSeconds?: number;
  /**
   * How long the stage usually runs at its desired allocation, in seconds (> 0, at most 7 days); used for
   * start-time estimates; never enforced. @default unknown (estimates assume it holds its grant for ever)
   */
  expectedSeconds?: number;
}

/** A pipeline: a named DAG of stages. */
export interface PipelineDefinition {
  /** Pipeline name (shown in the Web UI and used by `qm submit NAME`). */
  name: string;
  /** Free-form description. */
  description?: string;
  /** Base importance added to every stage's score; boosts add to it. @default 0 */
  importance?: number;
  /** The stages (1 – 1,000). */
  stages: StageDefinition[];
}

/** Stage resources after validation: `minimum` filled in (equal to `desired` when it was absent). */
export interface NormalisedStageResources extends StageResources {
  minimum: ResourceVector;
}

/** A shard spec after validation: `maxShards`, `partial` and per-shard `resources.minimum` filled in. */
export interface NormalisedShardSpec extends ShardSpec {
  maxShards: number;
  partial: 'allow' | 'forbid';
  resources?: NormalisedStageResources;
}

/** A stage after validation: `dependsOn` (`[]`), `input` (`{}`) and `resources.minimum` filled in. */
export interface NormalisedStageDefinition extends StageDefinition {
  dependsOn: string[];
  input: unknown;
  resources?: NormalisedStageResources;
  shard?: NormalisedShardSpec;
}

/** What `validateDefinition` returns: a {@link PipelineDefinition} with every default filled in. */
export interface NormalisedPipelineDefinition extends PipelineDefinition {
  importance: number;
  stages: NormalisedStageDefinition[];
}
