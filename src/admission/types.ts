import type { ResourceVector } from '../definition/types';
import type { RankedEntry, ShardRequestSpec } from '../scheduling/types';

/** A stage attempt's admission request, as the workflow sends it to the `awaitReservation` activity. */
export interface AdmissionRequest {
  /** Idempotency key: `requestKey(...)` (`<workflowId>/<runId>/<stageId>[#shard]/<attempt>`). */
  key: string;
  /** The stage attempt (1, 2, …), for the progress the waiter reports. */
  attempt: number;
  workflowId: string;
  runId: string;
  stageId: string;
  shardIndex?: number;
  priority: number;
  importance: number;
  desired: ResourceVector;
  minimum: ResourceVector;
  /**
   * How the stage may be split into shards when not even its minimum fits (the scheduler then decides
   * `shard`); absent for a stage that cannot be sharded and for a shard's own request.
   */
  shard?: ShardRequestSpec;
  /**
   * How long the stage (or this shard: the stage's value times its item share) usually runs at its desired
   * allocation, in seconds; stored with the request for start-time estimates, never enforced. @default unknown
   */
  expectedSeconds?: number;
  /** Place it elsewhere than this node when another fits (the node that just lost this stage). */
  avoidNode?: string;
  /**
   * The stage's `resources.waitForLargerNodes`: keep waiting when no registered node could ever hold it
   * (else it fails at once with `UnsatisfiableRequestError`). @default false
   */
  waitForLargerNodes?: boolean;
  /**
   * ISO-8601 time its age counts from, when earlier than now: a shard's request carries its stage's, so a
   * stage that waited and was then split keeps its place. @default now (the database's clock)
   */
  readySince?: string;
  /** The pipeline's definition name (execution data; keys the stage's learned run time). @default unknown */
  definitionName?: string;
  /** The definition's registered version, when the pipeline was started from the registry. @default unknown */
  definitionVersion?: number;
  /** The stage's handler (execution data; part of the learned run time's key). @default unknown */
  handler?: string;
}

/**
 * How a request ended its wait (the `awaitReservation` activity's result): granted — the key may be a
 * renewed one (`…~n`) when an earlier request of the attempt ended before it ran — or told to shard (the
 * request is already withdrawn).
 */
export type AdmissionDecision =
  | {
      kind: 'grant';
      key: string;
      nodeId: string;
      taskQueue: string;
      granted: ResourceVector;
      /** True when the allocation is below `desired` (a soft-reservation offer). */
      reduced: boolean;
      /** Decided on the fast path (in the request's own transaction) rather than by a cycle. */
      fast: boolean;
      /** Seconds from the request to its grant, on the database's clock. */
      waitSeconds: number;
    }
  | {
      kind: 'shard';
      key: string;
      shardCount: number;
      perShard: ResourceVector;
      /** When the withdrawn request was made (ISO-8601): its shards' age counts from here. */
      requestedAt: string;
      /** Decided on the fast path rather than by a cycle. */
      fast: boolean;
    };

/**
 * A row of the ranked queue as the `queue` query shows it: the pure core's {@link RankedEntry}, plus a
 * start-time estimate on waiting rows.
 */
export type QueueRow = RankedEntry & {
  /**
   * Waiting rows: when the request is expected to start (ISO-8601), from `estimateStarts` on the ledger
   * after the cycle; `null` when unknown (its minimum never fits, or it waits behind a grant or request
   * without `expectedSeconds`). Absent on grant and shard rows.
   */
  estimatedStartAt?: string | null;
  /**
   * Waiting rows: the run time the estimate assumed for this request at its desired allocation, seconds
   * (declared, or learned from its stage key's history); absent when unknown.
   */
  expectedSeconds?: number;
  /** Where `expectedSeconds` comes from. */
  expectedSource?: 'declared' | 'learned';
  /** For a learned `expectedSeconds`: how many completed runs it is made of. */
  expectedSamples?: number;
};

/** Result of one `scheduleCycle` activity. */
export interface CycleReport {
  /** Grants written. */
  granted: number;
  /** Grants the ledger rejected at commit (a racing change); they stay pending. */
  rejected: number;
  /** Requests still waiting. */
  waiting: number;
  /** Leases that lapsed this cycle (dead workers). */
  expired: number;
  /**
   * Shrink offers (graceful degradation) recorded this cycle for the top blocked request: running stages
   * above their minimum asked to run smaller. They take effect only when the stages accept.
   */
  shrinkOffers: number;
  /** The ranked queue (at most `queueLimit` rows) with start estimates on waiting rows, for the `queue` query. */
  queue: QueueRow[];
  /** Time the cycle took inside the activity, in ms. */
  durationMs: number;
  /** Malformed ledger rows left out of this cycle (nodes, forecasts, requests), each with why. */
  dropped: string[];
  /** Nodes whose grants exceed their capacity (re-registered smaller): they get nothing until grants fit. */
  overcommitted: string[];
  /** True when something changed during the cycle (a wake arrived, a grant was rejected): run again at once. */
  again: boolean;
  /** The cycle refreshed the queue (`queue` holds it); absent from reports of earlier versions. */
  refreshed?: boolean;
}

/**
 * What a waiting request tells its workflow (`admissionProgress` signal), a bounded number of times per
 * wait: why it waits, so `status` and the Web UI can say it.
 */
export interface AdmissionProgress {
  /** The stage. */
  stageId: string;
  /** Its shard index, for a shard's own request. */
  shardIndex?: number;
  /** The attempt waiting (a late signal of an earlier attempt is ignored). */
  attempt: number;
  /** Why it waits (the scheduler's reason). */
  reason: string;
}
