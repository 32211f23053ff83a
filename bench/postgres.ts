/**
 * The PostgreSQL a database benchmark runs against: DATABASE_URL when set, else an embedded server in a
 * temporary folder (removed on `close`), and fresh per-run schemas on it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../src/ledger/db';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../src/ledger/embedded';
import { freePort } from '../src/services/free-port';

/** A benchmark's PostgreSQL. */
export interface BenchPostgres {
  /** `postgres://…` URL of its database. */
  url: string;
  /** Stops the embedded server and removes its folder (nothing for DATABASE_URL). */
  close(): Promise<void>;
}

/**
 * DATABASE_URL, or an embedded PostgreSQL under a new temporary folder named after `name`.
 * @param start - how to start the embedded server (a checkout chosen at run time passes its own)
 * @throws when the embedded server cannot start.
 */
export async function benchPostgres(
  name: string,
  start: (options: {
    dataDir: string;
    port: number;
  }) => Promise<EmbeddedPostgresServer> = startEmbeddedPostgres,
): Promise<BenchPostgres> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined) return { url, close: () => Promise.resolve() };
  const tmp = mkdtempSync(path.join(os.tmpdir(), `qm-bench-${name}-`));
  // As root, PostgreSQL runs as the `postgres` user, which must traverse into the data directory's parent.
  chmodSync(tmp, 0o755);
  try {
    const server = await start({ dataDir: path.join(tmp, 'pg'), port: await freePort() });
    return {
      url: server.connectionString,
      close: async () => {
        await server.stop();
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A random schema name for one benchmark run (`qm_bench_…`). */
export function benchSchema(): string {
  return `qm_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** Opens (migrating) a fresh schema on `url`. */
export function freshSchema(url: string, maxConnections: number): Promise<Database> {
  return openDatabase({ connectionString: url, schema: benchSchema(), maxConnections });
}

/** Drops the schema of `db` and closes it. */
export async function dropSchema(db: Database): Promise<void> {
  await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`);
  await db.close();
}
