import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../config';
import { openDatabase, type Database } from '../ledger/db';
import { readDevState } from './dev-state';

/** Thrown for a usage problem the user can fix (printed without a stack; exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The ledger database for a CLI command: `DATABASE_URL`, else the embedded PostgreSQL of a running
 * `qm dev` in this folder. The pool is closed after `fn`.
 * @throws UsageError when neither is available; DatabaseUnavailableError when it cannot be reached.
 */
export async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL ?? readDevState()?.databaseUrl;
  if (url === undefined) {
    throw new UsageError('no database: set DATABASE_URL, or start `qm dev` in this folder first');
  }
  const db = await openDatabase({ connectionString: url, schema: process.env.QM_SCHEMA });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * A Temporal client for a CLI command: the standard Temporal environment configuration, else a running
 * `qm dev`'s server, else 127.0.0.1:7233. The connection is closed after `fn`.
 * @throws whatever connecting throws (the server is unreachable).
 */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const dev = process.env.TEMPORAL_ADDRESS === undefined ? readDevState() : undefined;
  const settings = temporalSettings({ address: dev?.temporalAddress });
  const connection = await Connection.connect(settings.connectionOptions);
  try {
    return await fn(new Client({ connection, namespace: settings.namespace }));
  } finally {
    await connection.close();
  }
}
