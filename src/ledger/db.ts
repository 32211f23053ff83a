import pg from 'pg';
import { translateDbError, UnsupportedServerError } from './errors';
import { DecisionListener } from './listener';
import { LiveRows } from './live-rows';
import { runMigrations } from './migrate';

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A `postgres://` URL. */
  connectionString: string;
  /** Schema holding Quartermaster's tables (tests use one per file). @default 'quartermaster' */
  schema?: string;
  /** Pool size. @default 10 */
  maxConnections?: number;
  /** How long to wait for a connection before failing. @default 5000 */
  connectTimeoutMs?: number;
  /** Told about every {@link inTransaction} (metrics). @default none */
  observer?: TransactionObserver;
}

/** What {@link inTransaction} reports to a {@link TransactionObserver} once a transaction has ended. */
export interface TransactionEvent {
  /** The operation's name as the caller gave it (a constant such as `'accept shrink'`). */
  readonly operation: string;
  /** Time from asking the pool for a connection to COMMIT or ROLLBACK returning, seconds. */
  readonly seconds: number;
  /** `committed`, or `rolled-back` when `fn` or COMMIT threw. */
  readonly outcome: 'committed' | 'rolled-back';
  /** What `fn` returned (committed transactions only). */
  readonly result?: unknown;
}

/** Called after each transaction; it must not throw (a throw is swallowed, never fails the transaction). */
export type TransactionObserver = (event: TransactionEvent) => void;

/** An open ledger database: a pool whose connections all use the ledger's schema. */
export interface Database {
  /** The pool; every connection's `search_path` is the schema. */
  readonly pool: pg.Pool;
  /** The schema name. */
  readonly schema: string;
  /** This process's ear on the decision channel (connects on first use; one connection for all waiters). */
  readonly decisions: DecisionListener;
  /** This process's copy of the live reservations, read incrementally by scheduling cycles. */
  readonly liveRows: LiveRows;
  /** Told about every transaction (see {@link OpenDatabaseOptions.observer}). */
  readonly observer?: TransactionObserver;
  /** Stops listening and closes the pool. */
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects, checks the server version, creates the schema and applies pending migrations under an
 * advisory lock (so many workers starting together migrate once).
 * @throws DatabaseUnavailableError when the server cannot be reached; UnsupportedServerError for
 *   PostgreSQL older than 13; Error for an invalid schema name.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const schema = options.schema ?? 'quartermaster';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": use [a-z_][a-z0-9_]*`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    options: `-c search_path=${schema}`,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const { rows } = await pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    const version = Number(rows[0]?.v ?? 0);
    if (version < 130000) throw new UnsupportedServerError(version);
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await runMigrations(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw translateDbError(err, 'connect');
  }
  const decisions = new DecisionListener(pool, schema);
  return {
    pool,
    schema,
    decisions,
    liveRows: new LiveRows(),
    ...(options.observer ? { observer: options.observer } : {}),
    close: async () => {
      await decisions.close();
      await pool.end();
    },
  };
}

/**
 * Runs `fn` in one transaction on one connection: COMMIT on success, ROLLBACK on any throw, so nothing is
 * half-written.
 * @throws DatabaseUnavailableError when the connection fails; otherwise whatever `fn` throws.
 */
export async function inTransaction<T>(
  db: Database,
  operation: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  isolation: 'READ COMMITTED' | 'REPEATABLE READ READ ONLY' | 'SERIALIZABLE' = 'READ COMMITTED',
): Promise<T> {
  const observer = db.observer;
  if (observer === undefined) return runInTransaction(db, operation, fn, isolation);
  const started = performance.now();
  const report = (outcome: TransactionEvent['outcome'], result?: unknown): void => {
    try {
      observer({ operation, seconds: (performance.now() - started) / 1000, outcome, result });
    } catch {
      // An observer is bookkeeping: it never fails the transaction it watched.
    }
  };
  try {
    const result = await runInTransaction(db, operation, fn, isolation);
    report('committed', result);
    return result;
  } catch (err) {
    report('rolled-back');
    throw err;
  }
}

/**
 * Runs `fn`, which issues a single statement on the pool (autocommit: one round trip, atomic on its own),
 * and reports it to the observer as {@link inTransaction} does, under `operation`.
 * @throws DatabaseUnavailableError when the connection fails; otherwise whatever `fn` throws.
 */
export async function inStatement<T>(
  db: Database,
  operation: string,
  fn: (pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const report = (outcome: TransactionEvent['outcome'], result?: unknown): void => {
    try {
      db.observer?.({ operation, seconds: (performance.now() - started) / 1000, outcome, result });
    } catch {
      // An observer is bookkeeping: it never fails the statement it watched.
    }
  };
  try {
    const result = await fn(db.pool);
    report('committed', result);
    return result;
  } catch (err) {
    report('rolled-back');
    throw translateDbError(err, operation);
  }
}

async function runInTransaction<T>(
  db: Database,
  operation: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  isolation: 'READ COMMITTED' | 'REPEATABLE READ READ ONLY' | 'SERIALIZABLE',
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw translateDbError(err, operation);
  }
  let broken = false;
  // A server that dies mid-transaction makes the checked-out client emit 'error' after the query has
  // already failed; without a listener that event would crash the process.
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw translateDbError(err, operation);
  } finally {
    // A broken client is destroyed; keep the listener so a late 'error' from it stays harmless.
    if (!broken) client.off('error', onError);
    client.release(broken);
  }
}
