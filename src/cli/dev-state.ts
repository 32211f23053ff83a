import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What a running `qm dev` tells other `qm` commands in the same folder (`.data/dev.json`). */
export interface DevState {
  /** Temporal frontend `host:port`. */
  temporalAddress: string;
  /** Web UI URL, when it runs. */
  uiUrl?: string;
  /** The embedded PostgreSQL URL. */
  databaseUrl: string;
  /** The `qm dev` process id. */
  pid: number;
}

/** `.data/` under the current directory: where `qm dev` keeps Temporal's SQLite file and PostgreSQL. */
export function dataDir(): string {
  return path.resolve(process.env.QM_DATA_DIR ?? '.data');
}

function stateFile(): string {
  return path.join(dataDir(), 'dev.json');
}

/** Records the running dev environment. */
export function writeDevState(state: DevState): void {
  mkdirSync(dataDir(), { recursive: true });
  writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`);
}

/** Forgets the dev environment (on `qm dev` exit). */
export function clearDevState(): void {
  rmSync(stateFile(), { force: true });
}

/** The running `qm dev`'s addresses, or undefined when none runs (a stale file from a dead process is ignored). */
export function readDevState(): DevState | undefined {
  if (!existsSync(stateFile())) return undefined;
  try {
    const state = JSON.parse(readFileSync(stateFile(), 'utf8')) as DevState;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}
