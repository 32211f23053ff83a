/**
 * Errors thrown by the scheduling core (`src/scheduling`). Match them by `name`, never by message text:
 * `instanceof` breaks across Jest module registries and Temporal's workflow sandbox. Both are caller bugs
 * (bad configuration, a snapshot the ledger should never produce): not retryable.
 */

/** Renders a value for an error message. */
function show(value: unknown): string {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : 'Invalid Date';
  return JSON.stringify(value) ?? String(value);
}

/**
 * A scheduler option is out of range or of the wrong kind. Thrown by `compileSchedulerConfig`, once,
 * before any cycle runs. `field` is the option's path (e.g. `weights.age`).
 */
export class InvalidSchedulerOptionError extends Error {
  /** Always `'InvalidSchedulerOptionError'`. */
  override readonly name = 'InvalidSchedulerOptionError';
  /**
   * @param field - the option's path, e.g. `weights.age`
   * @param value - the rejected value, as given
   * @param reason - what is wrong, e.g. `must be a finite number >= 0`
   */
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid scheduler option ${field}=${show(value)}: ${reason}`);
  }
}

/**
 * A cluster snapshot or request is malformed (duplicate key, negative quantity, minimum above desired,
 * priority out of range, …). Thrown by `runCycle`, `scoreRequest` and `degrade` before deciding anything.
 * `path` names the field, e.g. `pending[3].minimum.cpu`.
 */
export class InvalidSnapshotError extends Error {
  /** Always `'InvalidSnapshotError'`. */
  override readonly name = 'InvalidSnapshotError';
  /**
   * @param path - the offending field, e.g. `pending[3].priority`
   * @param value - the rejected value
   * @param reason - what is wrong
   */
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid snapshot ${path}=${show(value)}: ${reason}`);
  }
}

/**
 * A changes-only cycle result (`CycleChanges`) was read after its `IncrementalCycle` was changed or run
 * again: its lazy parts would describe another state. Thrown by `CycleChanges.waitReason` and
 * `waitingKeys`; a caller bug, not retryable.
 */
export class StaleCycleResultError extends Error {
  /** Always `'StaleCycleResultError'`. */
  override readonly name = 'StaleCycleResultError';
  constructor() {
    super('this cycle result is stale: the incremental core was changed or run again since');
  }
}
