import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProbeNote } from './types';

/** The default cgroup v2 mount point read for container limits. */
export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** Limits found in a cgroup v2 directory; `null` means "no limit found" (unlimited or no file). */
export interface CgroupLimits {
  /** CPU quota in cores (`cpu.max` quota ÷ period), or `null` when `max` or absent. */
  cpuCores: number | null;
  /** Memory limit in MiB (`memory.max` ÷ 2^20), or `null` when `max` or absent. */
  memoryMb: number | null;
  /** Files that exist but could not be read or parsed. A missing file is not a note. */
  notes: ProbeNote[];
}

/**
 * Parses the text of a cgroup v2 `cpu.max` file (`"<quota> <period>"` or `"max <period>"`).
 * @returns the quota in cores (quota ÷ period), or `null` for `max` (unlimited)
 * @throws Error when the text is not in that form
 */
export function parseCpuMax(text: string): number | null {
  const parts = text.trim().split(/\s+/);
  const [quota, periodText] = parts;
  if (quota === undefined || quota === '' || parts.length > 2)
    throw new Error(`cpu.max: unexpected "${text.trim()}"`);
  if (quota === 'max') return null;
  const period = periodText === undefined ? 100_000 : Number(periodText);
  const q = Number(quota);
  if (!Number.isFinite(q) || q <= 0 || !Number.isFinite(period) || period <= 0) {
    throw new Error(`cpu.max: unexpected "${text.trim()}"`);
  }
  return q / period;
}

/**
 * Parses the text of a cgroup v2 `memory.max` file (a byte count or `max`).
 * @returns the limit in MiB, or `null` for `max` (unlimited)
 * @throws Error when the text is neither
 */
export function parseMemoryMax(text: string): number | null {
  const t = text.trim();
  if (t === 'max') return null;
  if (!/^\d+$/.test(t)) throw new Error(`memory.max: unexpected "${t}"`);
  return Number(t) / 2 ** 20;
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // A missing file means "this controller is not enabled here" (or cgroup v1): no limit, not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Reads `cpu.max` and `memory.max` from the cgroup v2 directory `root`. Never throws: an unreadable
 * or malformed file gives `null` for that limit plus a note; a missing file gives `null` alone.
 * @param root - the cgroup directory; @default DEFAULT_CGROUP_ROOT (`/sys/fs/cgroup`)
 */
export async function readCgroupLimits(root: string = DEFAULT_CGROUP_ROOT): Promise<CgroupLimits> {
  const notes: ProbeNote[] = [];
  const one = async (file: string, parse: (text: string) => number | null): Promise<number | null> => {
    try {
      const text = await readOptional(path.join(root, file));
      return text === null ? null : parse(text);
    } catch (err) {
      notes.push({ probe: 'cgroup', message: err instanceof Error ? err.message : String(err) });
      return null;
    }
  };
  const [cpuCores, memoryMb] = await Promise.all([
    one('cpu.max', parseCpuMax),
    one('memory.max', parseMemoryMax),
  ]);
  return { cpuCores, memoryMb, notes };
}

/**
 * The effective capacity: the smaller of the host's value and the cgroup limit, ignoring `null`s.
 * @returns `null` only when both are `null`
 */
export function effectiveCapacity(host: number | null, limit: number | null): number | null {
  if (host === null) return limit;
  if (limit === null) return host;
  return Math.min(host, limit);
}
