import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../config';
import { openDatabase, type Database } from '../ledger/db';
import { readDevState } from './dev-state';

/** Thrown for a usage problem the user can fix (printed without a stack; exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** How long `qm` waits for Temporal or PostgreSQL by default, in seconds. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

/**
 * How long to wait for a service, in ms: `QM_CONNECT_TIMEOUT` (seconds; set by `qm --connect-timeout S`),
 * default {@link DEFAULT_CONNECT_TIMEOUT_SECONDS}.
 * @throws UsageError when it is not a number > 0.
 */
export function connectTimeoutMs(): number {
  const text = process.env.QM_CONNECT_TIMEOUT;
  if (text === undefined || text === '') return DEFAULT_CONNECT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(
      `QM_CONNECT_TIMEOUT / --connect-timeout must be a number of seconds > 0 (got ${text})`,
    );
  return Math.round(seconds * 1000);
}

/**
 * Temporal or PostgreSQL could not be reached: names the service and the address tried (exit code 3).
 */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
  /**
   * @param service which one
   * @param address the address tried (a database URL without its password)
   * @param waitedMs how long `qm` waited
   * @param reason what the client said
   */
  constructor(
    readonly service: 'Temporal' | 'PostgreSQL',
    readonly address: string,
    waitedMs: number,
    reason: string,
  ) {
    super(
      `cannot reach ${service} at ${address} (waited ${waitedMs / 1000} s): ${reason.split('\n')[0] ?? ''} — ` +
        'is it running? (qm dev starts both; wait longer with --connect-timeout SECONDS or QM_CONNECT_TIMEOUT)',
    );
  }
}

/** A database URL as shown to people: `host:port/database`, never the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(an unparseable DATABASE_URL)';
  }
}

/**
 * The ledger database for a CLI command: `DATABASE_URL`, else the embedded PostgreSQL of a running
 * `qm dev` in this folder. The pool is closed after `fn`.
 * @throws UsageError when neither is available; ServiceUnavailableError (naming the address) when it cannot
 *   be reached within `--connect-timeout` (default 5 s).
 */
export async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL ?? readDevState()?.databaseUrl;
  if (url === undefined) {
    throw new UsageError('no database: set DATABASE_URL, or start `qm dev` in this folder first');
  }
  const timeoutMs = connectTimeoutMs();
  let db: Database;
  try {
    db = await openDatabase({
      connectionString: url,
      schema: process.env.QM_SCHEMA,
      connectTimeoutMs: timeoutMs,
    });
  } catch (err) {
    const e = err as Error;
    if (e.name !== 'DatabaseUnavailableError') throw err;
    throw new ServiceUnavailableError('PostgreSQL', describeDatabaseUrl(url), timeoutMs, e.message);
  }
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * A Temporal client for a CLI command: the standard Temporal environment configuration, else a running
 * `qm dev`'s server, else 127.0.0.1:7233. The connection is closed after `fn`.
 * @throws ServiceUnavailableError naming the address when the server cannot be reached within
 *   `--connect-timeout` (default 5 s).
 */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const dev = process.env.TEMPORAL_ADDRESS === undefined ? readDevState() : undefined;
  const settings = temporalSettings({ address: dev?.temporalAddress });
  const timeoutMs = connectTimeoutMs();
  const address = settings.connectionOptions.address ?? '127.0.0.1:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: timeoutMs });
  } catch (err) {
    throw new ServiceUnavailableError('Temporal', address, timeoutMs, (err as Error).message ?? String(err));
  }
  try {
    return await fn(new Client({ connection, namespace: settings.namespace }));
  } finally {
    await connection.close();
  }
}
