/**
 * What the ledger remembers of one stage attempt (or shard attempt) once it has ended: the unit of
 * execution data. Written by the transaction that ends the reservation (release, expiry, cancellation);
 * the simulator writes the same shape for a what-if run, so one renderer draws both.
 */
import type { ResourceVector } from '../ledger/types';
import type { ExpectedSource } from './learned';

/** How an attempt ended. `expired`: its lease lapsed (the worker or workflow died holding it). */
export type ExecutionOutcome = 'completed' | 'failed' | 'cancelled' | 'expired';

/** The outcomes, in display order. */
export const EXECUTION_OUTCOMES: readonly ExecutionOutcome[] = Object.freeze([
  'completed',
  'failed',
  'cancelled',
  'expired',
]);

/** One ended stage attempt. Times are absolute; `null` where the attempt never reached that point. */
export interface ExecutionRecord {
  /** Pipeline workflow id. */
  readonly workflowId: string;
  /** Pipeline run id when known (a simulated run has none). */
  readonly runId: string | null;
  /** Definition name and version (`null`: an ad-hoc definition without a registered version). */
  readonly definitionName: string;
  readonly definitionVersion: number | null;
  /** Stage id within the definition. */
  readonly stageId: string;
  /** 0-based shard index for a shard's attempt, else `null`. */
  readonly shardIndex: number | null;
  /** The handler the stage ran. */
  readonly handler: string;
  /** 1-based attempt number of this stage (or shard). */
  readonly attempt: number;
  /** Priority 1–10 and effective importance (base plus boosts) when it was admitted. */
  readonly priority: number;
  readonly importance: number;
  /** What it asked for. */
  readonly desired: ResourceVector;
  readonly minimum: ResourceVector;
  /** What it was granted (after any shrink), `null` when never granted. */
  readonly granted: ResourceVector | null;
  /** Whether the grant was below `desired` (reduced at admission or shrunk later). */
  readonly reduced: boolean;
  /** How many times the running grant was shrunk. */
  readonly shrinks: number;
  /** The node it was granted on, `null` when never granted. */
  readonly nodeId: string | null;
  /** The run time the stage declared (`expectedSeconds`), `null` when it declared none. */
  readonly expectedSeconds: number | null;
  /**
   * The run time predicted for it at `desired`, seconds: the declared one, else the learned one; `null` when
   * there was none. Absent in records written before predictions were recorded (read as `null`).
   */
  readonly predictedSeconds?: number | null;
  /** Where {@link ExecutionRecord.predictedSeconds} came from; `null` (or absent) when there was none. */
  readonly predictedSource?: ExpectedSource | null;
  /** requested → granted → started → ended. */
  readonly requestedAt: Date;
  readonly grantedAt: Date | null;
  readonly startedAt: Date | null;
  readonly endedAt: Date;
  /** The start the scheduler last estimated for it while it waited, `null` when it never estimated one. */
  readonly estimatedStartAt: Date | null;
  /** How it ended. */
  readonly outcome: ExecutionOutcome;
}
