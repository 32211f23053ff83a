/** Inputs and outputs of the incremental core ({@link IncrementalCycle}) beyond those of `runCycle`. */
import type { Decision, Hold, NodeView, PendingRequest, PoolView, RunningGrant, WaitReason } from './types';

/**
 * What changed since the last {@link IncrementalCycle.apply}. Every field is optional; applied in the
 * order: nodes, pools, `remove`, `update`, `add`, `runningEnded`, `running`, `holders`. The whole delta
 * is validated before anything changes.
 */
export interface CycleDelta {
  /** The node list, replacing the current one (any change of capacity, grants, forecast or staleness). */
  readonly nodes?: readonly NodeView[];
  /** The pool list, replacing the current one. */
  readonly pools?: readonly PoolView[];
  /** Keys of pending requests that left (granted, sharded, cancelled, expired); each must be pending. */
  readonly remove?: readonly string[];
  /** New versions of pending requests, by key (e.g. an importance changed by a boost); each must be pending. */
  readonly update?: readonly PendingRequest[];
  /** Arrivals; no key may be pending already (after `remove`). */
  readonly add?: readonly PendingRequest[];
  /** Keys of running grants that ended (unknown keys are ignored). */
  readonly runningEnded?: readonly string[];
  /**
   * Running grants that started or changed, by key. A new key goes last; a changed one keeps its place
   * (the order running grants were first given in is the order a snapshot lists them in).
   */
  readonly running?: readonly RunningGrant[];
  /** The previous cycle's holders (`ClusterSnapshot.holders`), replacing the current ones. */
  readonly holders?: readonly string[];
}

/**
 * The changes-only result of a cycle ({@link IncrementalCycle.runChanges}): every decision that is not a
 * plain wait, and lazy access to the rest. The lazy accessors read the core's state as the cycle left it:
 * they throw `StaleCycleResultError` once the core has been changed or run again.
 */
export interface CycleChanges {
  /** Every grant and shard decision and every holder's wait (with its hold), in rank order. */
  readonly decisions: readonly Decision[];
  /** Holds placed this cycle (also on their wait decisions). */
  readonly holds: readonly Hold[];
  /**
   * Why `key` waits (the reason the full cycle gives it), or undefined when it is not pending or not waiting.
   * @throws StaleCycleResultError after the core changed.
   */
  waitReason(key: string): WaitReason | undefined;
  /**
   * The first `limit` waiting keys (holders included) in rank order.
   * @throws StaleCycleResultError after the core changed.
   */
  waitingKeys(limit: number): string[];
}
