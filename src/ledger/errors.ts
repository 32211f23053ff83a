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
    super(`no pipeline definition named "${definitionName}" is registered (register it with: qm register FILE)`);
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

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** True for errors meaning "the database is not there": refused connections, shutdowns, class 08 and 57P0x. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message);
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
