import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProbeNote } from './types';

/** The default cgroup mount point read for container limits (v2 unified, or the v1 controllers' parent). */
export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** The file naming this process's cgroup per v1 controller (read only with the default root). */
export const DEFAULT_PROC_SELF_CGROUP = '/proc/self/cgroup';

/**
 * cgroup v1 writes "no memory limit" as the largest page-aligned 63-bit count (9223372036854771712
 * on 4 KiB pages); any limit at or above 2^60 bytes (1 EiB) is read as unlimited.
 */
const V1_UNLIMITED_BYTES = 2 ** 60;

/** Limits found in a cgroup directory; `null` means "no limit found" (unlimited or no file). */
export interface CgroupLimits {
  /**
   * CPU quota in cores (v2 `cpu.max` quota ÷ period; v1 `cpu.cfs_quota_us` ÷ `cpu.cfs_period_us`),
   * or `null` when unlimited (`max`, `-1`) or absent.
   */
  cpuCores: number | null;
  /**
   * Memory limit in MiB (v2 `memory.max`, v1 `memory.limit_in_bytes`, ÷ 2^20), or `null` when
   * unlimited (`max`, v1's ≥ 2^60 "unlimited" value) or absent.
   */
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

/**
 * Parses cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` texts (µs; quota `-1` = unlimited).
 * @returns the quota in cores (quota ÷ period), or `null` for `-1` (unlimited)
 * @throws Error when either text is not a valid number of that form
 */
export function parseCfsQuota(quotaText: string, periodText: string): number | null {
  const quota = quotaText.trim();
  const period = periodText.trim();
  if (!/^-?\d+$/.test(quota)) throw new Error(`cpu.cfs_quota_us: unexpected "${quota}"`);
  if (!/^\d+$/.test(period) || Number(period) <= 0) {
    throw new Error(`cpu.cfs_period_us: unexpected "${period}"`);
  }
  const q = Number(quota);
  if (q === -1) return null;
  if (q <= 0) throw new Error(`cpu.cfs_quota_us: unexpected "${quota}"`);
  return q / Number(period);
}

/**
 * Parses the text of a cgroup v1 `memory.limit_in_bytes` file (a byte count).
 * @returns the limit in MiB, or `null` for the "unlimited" value (≥ 2^60 bytes)
 * @throws Error when the text is not a byte count
 */
export function parseMemoryLimitInBytes(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new Error(`memory.limit_in_bytes: unexpected "${t}"`);
  const bytes = Number(t);
  return bytes >= V1_UNLIMITED_BYTES ? null : bytes / 2 ** 20;
}

/**
 * Parses `/proc/self/cgroup` into each cgroup v1 controller's path (`"4:memory:/a/b"` → memory →
 * `/a/b`; `"3:cpu,cpuacct:/"` gives both). The v2 line (`0::/…`) and malformed lines are skipped.
 */
export function parseProcSelfCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]+):(\/.*)$/.exec(line.trim());
    if (m === null) continue;
    for (const controller of (m[1] as string).split(',')) {
      if (controller !== '' && !controller.startsWith('name=')) paths.set(controller, m[2] as string);
    }
  }
  return paths;
}

/** `/a/b` → [`a/b`, `a`, ``]: the own cgroup first, then each parent up to the hierarchy's root. */
function ancestry(cgroupPath: string | undefined): string[] {
  const parts = (cgroupPath ?? '/').split('/').filter((p) => p !== '' && p !== '..');
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) out.push(parts.slice(0, n).join('/'));
  return out;
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

/** Options for {@link readCgroupLimits}. */
export interface ReadCgroupOptions {
  /**
   * File naming this process's v1 cgroups (`/proc/self/cgroup` format); its paths are looked up
   * under each controller's directory. `null`: only the controllers' top directories are read.
   * @default DEFAULT_PROC_SELF_CGROUP when `root` is DEFAULT_CGROUP_ROOT, else null
   */
  procSelfCgroup?: string | null;
}

/**
 * Reads the container limits under `root`. cgroup v2: `cpu.max` and `memory.max` in `root`. Where a
 * v2 file is absent, cgroup v1: `cpu/cpu.cfs_quota_us` + `cpu.cfs_period_us` (or under
 * `cpu,cpuacct/`) and `memory/memory.limit_in_bytes`, in this process's cgroup (from
 * `procSelfCgroup`) and each of its parents, the smallest limit winning (v1 limits are
 * hierarchical). Never throws: an unreadable or malformed file gives `null` for that limit plus a
 * note; a missing file gives `null` alone.
 * @param root - the cgroup mount; @default DEFAULT_CGROUP_ROOT (`/sys/fs/cgroup`)
 */
export async function readCgroupLimits(
  root: string = DEFAULT_CGROUP_ROOT,
  options: ReadCgroupOptions = {},
): Promise<CgroupLimits> {
  const notes: ProbeNote[] = [];
  const note = (err: unknown): null => {
    notes.push({ probe: 'cgroup', message: err instanceof Error ? err.message : String(err) });
    return null;
  };
  // undefined = file absent (try v1); null = unlimited or unreadable.
  const v2 = async (
    file: string,
    parse: (text: string) => number | null,
  ): Promise<number | null | undefined> => {
    try {
      const text = await readOptional(path.join(root, file));
      return text === null ? undefined : parse(text);
    } catch (err) {
      return note(err);
    }
  };
  const [cpuV2, memoryV2] = await Promise.all([v2('cpu.max', parseCpuMax), v2('memory.max', parseMemoryMax)]);
  if (cpuV2 !== undefined && memoryV2 !== undefined) return { cpuCores: cpuV2, memoryMb: memoryV2, notes };

  const selfFile =
    options.procSelfCgroup === undefined
      ? root === DEFAULT_CGROUP_ROOT
        ? DEFAULT_PROC_SELF_CGROUP
        : null
      : options.procSelfCgroup;
  let own = new Map<string, string>();
  if (selfFile !== null) {
    try {
      own = parseProcSelfCgroup((await readOptional(selfFile)) ?? '');
    } catch (err) {
      note(err);
    }
  }
  /** The smallest limit over the own cgroup and its parents in the first controller directory that exists. */
  const v1 = async (
    controllerDirs: readonly string[],
    controller: string,
    read: (dir: string) => Promise<number | null | undefined>,
  ): Promise<number | null> => {
    let limit: number | null = null;
    for (const controllerDir of controllerDirs) {
      let found = false;
      for (const rel of ancestry(own.get(controller))) {
        try {
          const value = await read(path.join(root, controllerDir, rel));
          if (value === undefined) continue;
          found = true;
          if (value !== null) limit = limit === null ? value : Math.min(limit, value);
        } catch (err) {
          found = true;
          note(err);
        }
      }
      if (found) return limit;
    }
    return null;
  };
  const cpuCores =
    cpuV2 !== undefined
      ? cpuV2
      : await v1(['cpu', 'cpu,cpuacct', 'cpuacct,cpu'], 'cpu', async (dir) => {
          const quota = await readOptional(path.join(dir, 'cpu.cfs_quota_us'));
          if (quota === null) return undefined;
          const period = await readOptional(path.join(dir, 'cpu.cfs_period_us'));
          // A quota without its period is malformed, not absent.
          return parseCfsQuota(quota, period ?? '');
        });
  const memoryMb =
    memoryV2 !== undefined
      ? memoryV2
      : await v1(['memory'], 'memory', async (dir) => {
          const text = await readOptional(path.join(dir, 'memory.limit_in_bytes'));
          return text === null ? undefined : parseMemoryLimitInBytes(text);
        });
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
