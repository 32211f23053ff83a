import type { ResourceVector } from '../definition/types';

/** Any JSON value: what handlers receive and return (it travels through Temporal payloads). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Which shard of a sharded stage this run is. */
export interface ShardContext {
  /** 0-based shard index. */
  index: number;
  /** Total number of shards. */
  count: number;
}

/** What a stage handler receives. */
export interface StageContext {
  /** The stage's `input` from the definition (its slice, for an `items` shard). */
  input: JsonValue;
  /** Outputs of the stages it depends on, by stage id. */
  deps: Record<string, JsonValue>;
  /** The pipeline's run input (`--input`). */
  pipelineInput: JsonValue;
  /** What the stage was granted (honour it: threads, memory budget). */
  allocation: ResourceVector;
  /** Present when this run is one shard of a stage. */
  shard?: ShardContext;
  /** 1 on the first attempt, 2 on the first retry… */
  attempt: number;
  /** Aborted when the stage is cancelled (the pipeline was cancelled or its lease was lost). */
  signal: AbortSignal;
  /** Where the stage and pipeline are, for logs and handlers that write files. */
  workflowId: string;
  /** The stage id. */
  stageId: string;
}

/** A stage handler: a function of its context returning JSON (or a promise of it). */
export type StageHandler = (context: StageContext) => JsonValue | Promise<JsonValue>;

/** A named handler, as returned by `defineStage`. */
export interface StageHandlerDefinition {
  /** Name used in definitions' `handler` field. */
  readonly name: string;
  /** The function. */
  readonly run: StageHandler;
}
