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

/**
 * A smaller allocation offered to a running stage (graceful degradation): higher-scored work waits and
 * this stage holds more than its `minimum`.
 */
export interface AllocationOffer {
  /** What the stage holds now. */
  readonly from: ResourceVector;
  /** What it would hold after accepting: the same resource names, each between its `minimum` and `from`. */
  readonly to: ResourceVector;
}

/**
 * Answers an {@link AllocationOffer}: return (or resolve to) `true` to accept — only after the handler has
 * cut its use down to `offer.to` (stopped threads, shrunk buffers), because the ledger gives the difference
 * to other stages as soon as it is acknowledged — or `false` to decline and keep the grant.
 */
export type AllocationOfferListener = (offer: AllocationOffer) => boolean | Promise<boolean>;

/** What a stage handler receives. */
export interface StageContext {
  /** The stage's `input` from the definition (its slice, for an `items` shard). */
  input: JsonValue;
  /** Outputs of the stages it depends on, by stage id. */
  deps: Record<string, JsonValue>;
  /** The pipeline's run input (`--input`). */
  pipelineInput: JsonValue;
  /**
   * What the stage holds now (honour it: threads, memory budget). Live: after the stage accepts a smaller
   * allocation (see {@link StageContext.onAllocationOffer}) and the ledger records it, this same object is
   * updated in place to the new grant.
   */
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
  /**
   * Graceful degradation: registers `listener` for offers of a smaller allocation, which reach a running stage
   * through its lease renewal (every few seconds) when higher-scored work waits and no capacity is free.
   * Never below the stage's `minimum`; lowest-scored stages are asked first. The offer is accepted when every
   * registered listener returns `true` (cut your use first, then return); the ledger then frees the difference
   * and `allocation` is updated in place. Any `false`, a throw, or no listener at all (the default) declines:
   * the stage keeps its grant and is not asked again for a while. Register at the start of the handler. If the
   * offer was withdrawn meanwhile (the waiting work found room elsewhere), `allocation` stays unchanged and the
   * handler may use it again. Stages without resources, and reducers, never get offers.
   * @returns a function that removes the listener.
   * @example
   * defineStage('video.encode', async ({ allocation, onAllocationOffer }) => {
   *   const pool = startThreads(allocation.cpu);
   *   onAllocationOffer(async ({ to }) => { await pool.resize(Math.floor(to.cpu ?? 1)); return true; });
   *   return pool.done();
   * });
   */
  onAllocationOffer(listener: AllocationOfferListener): () => void;
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
