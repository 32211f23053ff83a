/**
 * Errors thrown by the ledger. Match them by `name` (or the `retryable` flag), never by message:
 * `instanceof` breaks across Temporal's workflow sandbox and Jest module registries.
 */

/** Base class: every ledger error says whether a retry may succeed. */
export abstract class LedgerError extends Error {
  /** True when the same call may succeed later (e.g. the database came back). */
  abstract readonly retryable: boolean;
}

/** The database could not be reached or dropped the connection; nothing was written. Retryable. */
export class DatabaseUnavailableError extends LedgerError {
  override readonly name = 'DatabaseUnavailableError';
  readonly retryable = true;
  constructor(
    /** What was being done, e.g. `connect` or `register definition`. */
    readonly operation: string,
    /** The driver's error code, e.g. `ECONNREFUSED` or `57P01`. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(`database unavailable during ${operation}${code ? ` (${code})` : ''}: ${message}`);
  }
}

/** No definition is registered under that name (thrown by `latestDefinition`). Not retryable. */
export class DefinitionNotFoundError extends LedgerError {
  override readonly name = 'DefinitionNotFoundError';
  readonly retryable = false;
  constructor(readonly definitionName: string) {
    super(
      `no pipeline definition named "${definitionName}" is registered (register it with: qm register FILE)`,
    );
  }
}

/** The PostgreSQL server is older than the ledger supports. Not retryable. */
export class UnsupportedServerError extends LedgerError {
  override readonly name = 'UnsupportedServerError';
  readonly retryable = false;
  constructor(readonly serverVersion: number) {
    super(`PostgreSQL ${serverVersion} is not supported: the ledger needs PostgreSQL 13 or newer`);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** True for errors meaning "the database is not there": refused connections, shutdowns, class 08 and 57P0x. */
export function isConnectionError(err: unknown): boolean {
  // Not `instanceof Error`: errors raised by Node's net module come from another realm under Jest.
  if (typeof err !== 'object' || err === null || typeof (err as { message?: unknown }).message !== 'string')
    return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    (err as Error).message,
  );
}

/**
 * Maps a driver error to {@link DatabaseUnavailableError} when it is a connection failure; returns
 * anything else unchanged.
 */
export function translateDbError(err: unknown, operation: string): unknown {
  if (!isConnectionError(err)) return err;
  const e = err as Error & { code?: string };
  return new DatabaseUnavailableError(operation, e.code, e.message);
}

/** A quantity is negative, NaN or infinite (thrown before anything is written). Not retryable. */
export class InvalidQuantityError extends LedgerError {
  override readonly name = 'InvalidQuantityError';
  readonly retryable = false;
  constructor(
    /** Where the value sits, e.g. `desired.cpu` or `boost.amount`. */
    readonly path: string,
    /** The bad value. */
    readonly value: unknown,
  ) {
    super(`${path} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** An argument other than a quantity is invalid (empty id, priority outside 1–10, …). Not retryable. */
export class InvalidLedgerArgumentError extends LedgerError {
  override readonly name = 'InvalidLedgerArgumentError';
  readonly retryable = false;
  constructor(
    /** The argument's path, e.g. `priority`. */
    readonly path: string,
    /** The bad value. */
    readonly value: unknown,
    /** What was expected. */
    readonly expected: string,
  ) {
    super(`${path} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

/** No node is registered under that id. Not retryable. */
export class UnknownNodeError extends LedgerError {
  override readonly name = 'UnknownNodeError';
  readonly retryable = false;
  constructor(readonly nodeId: string) {
    super(`no node "${nodeId}" is registered`);
  }
}

/** A custom resource names no declared pool (declare it with `qm pools set NAME=N`). Not retryable. */
export class UnknownPoolError extends LedgerError {
  override readonly name = 'UnknownPoolError';
  readonly retryable = false;
  constructor(readonly poolName: string) {
    super(`no resource pool "${poolName}" is declared (declare it with: qm pools set ${poolName}=N)`);
  }
}

/** No reservation has that key (e.g. a release of a key never requested). Not retryable. */
export class UnknownReservationError extends LedgerError {
  override readonly name = 'UnknownReservationError';
  readonly retryable = false;
  constructor(readonly key: string) {
    super(`no reservation with key "${key}"`);
  }
}

/** The reservation state machine has no such move (see `transition.ts`). Not retryable. */
export class IllegalTransitionError extends LedgerError {
  override readonly name = 'IllegalTransitionError';
  readonly retryable = false;
  constructor(
    readonly from: string,
    readonly event: string,
    readonly key?: string,
  ) {
    super(`cannot ${event} a ${from} reservation${key === undefined ? '' : ` ("${key}")`}`);
  }
}

/**
 * The lease ran out before this renewal: the capacity went back to the pool and the reservation is
 * `expired` (the renewal marks it so). Request again. Not retryable.
 */
export class LeaseExpiredError extends LedgerError {
  override readonly name = 'LeaseExpiredError';
  readonly retryable = false;
  constructor(
    readonly key: string,
    /** When the lease ended. */
    readonly expiredAt: Date,
  ) {
    super(`the lease of reservation "${key}" expired at ${expiredAt.toISOString()}; request it again`);
  }
}

/** Why {@link StaleShrinkOfferError} was thrown. */
export type StaleShrinkOfferReason =
  /** The reservation has no pending offer (it was cleared: too old, declined, or no longer needed). */
  | 'no-offer'
  /** The pending offer is a different (newer) one than the one acknowledged. */
  | 'superseded'
  /** The reservation no longer holds anything (released, expired, cancelled, lease lapsed) or never did. */
  | 'not-held';

/**
 * A shrink offer was acknowledged (accepted or declined) but is no longer the reservation's pending offer
 * (thrown by `acceptShrink`; nothing changed: the reservation keeps its grant). Not retryable.
 */
export class StaleShrinkOfferError extends LedgerError {
  override readonly name = 'StaleShrinkOfferError';
  readonly retryable = false;
  constructor(
    readonly key: string,
    /** Machine-readable reason. */
    readonly reason: StaleShrinkOfferReason,
    /** When the acknowledged offer was made. */
    readonly offeredAt: Date,
  ) {
    super(
      `the shrink offer of ${offeredAt.toISOString()} to reservation "${key}" is stale (${reason}); it keeps its grant`,
    );
  }
}

/** A pool's new capacity is below what is granted from it now. Not retryable (release first). */
export class CapacityBelowGrantedError extends LedgerError {
  override readonly name = 'CapacityBelowGrantedError';
  readonly retryable = false;
  constructor(
    readonly poolName: string,
    readonly capacity: number,
    readonly granted: number,
  ) {
    super(`pool "${poolName}" cannot shrink to ${capacity}: ${granted} is granted from it now`);
  }
}

/** A SERIALIZABLE transaction kept failing on serialization conflicts (40001/40P01). Retryable. */
export class LedgerContentionError extends LedgerError {
  override readonly name = 'LedgerContentionError';
  readonly retryable = true;
  constructor(
    readonly operation: string,
    readonly attempts: number,
  ) {
    super(`${operation} gave up after ${attempts} attempts on serialization conflicts`);
  }
}

/** A stage needs the ledger but no database was configured (no `databaseUrl`, no DATABASE_URL). Not retryable. */
export class DatabaseNotConfiguredError extends LedgerError {
  override readonly name = 'DatabaseNotConfiguredError';
  readonly retryable = false;
  constructor() {
    super(
      'stages with resources need the ledger: set DATABASE_URL (or the plugin option databaseUrl) on every worker',
    );
  }
}
