import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { QM_SEARCH_ATTRIBUTES } from '../search-attributes';
import { findTemporalCli } from './temporal-cli';
import { freePort, waitForPort } from './free-port';

/** Options for {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  /** Frontend gRPC port. @default a free port */
  port?: number;
  /** Web UI port; `null` runs headless. @default null */
  uiPort?: number | null;
  /** SQLite file that keeps state across restarts. @default in memory */
  dbFilename?: string;
  /** Listen address. @default '127.0.0.1' */
  ip?: string;
  /** Extra `--dynamic-config-value` entries, e.g. `limit.historyCount.suggestContinueAsNew=50`. */
  dynamicConfig?: string[];
  /** Where progress lines go. */
  log?: (line: string) => void;
  /** How long to wait for the frontend. @default 60000 */
  startTimeoutMs?: number;
}

/** A running dev server. */
export interface TemporalDevServer {
  /** `host:port` of the frontend, for `Connection.connect({ address })`. */
  address: string;
  /** Web UI URL, when the UI runs. */
  uiUrl?: string;
  /** The child process. */
  process: ChildProcess;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with Quartermaster's search attributes registered.
 * @throws Error when the CLI cannot be found or installed, or the server does not listen in time
 *   (the message carries the server's last output).
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  const cli = findTemporalCli({ install: true, log: options.log });
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? null;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'warn'];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (options.dbFilename !== undefined) {
    mkdirSync(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  for (const [name, type] of Object.entries(QM_SEARCH_ATTRIBUTES))
    args.push('--search-attribute', `${name}=${type}`);
  for (const value of options.dynamicConfig ?? []) args.push('--dynamic-config-value', value);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal dev server exited (code ${code}): ${output}`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForPort(ip, port, options.startTimeoutMs ?? 60_000), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err instanceof Error ? new Error(`${err.message}\n${output}`) : err;
  }
  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip;
  return {
    address: `${host}:${port}`,
    uiUrl: uiPort === null ? undefined : `http://${host}:${uiPort}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
