import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import { parseDiskstatsBytes, isCountedDisk, parseMeminfo, parseNetDevBytes } from './proc-parsers';
import type { GpuReading } from './types';
import type { CgroupLimits } from './cgroup';

/** Cumulative CPU time across all cores, milliseconds. */
export interface CpuTimes {
  /** Non-idle time. */
  busyMs: number;
  /** All time (busy + idle). */
  totalMs: number;
  /** Logical cores the host has. */
  cores: number;
}

/**
 * The sampler's sources. Counters are cumulative; the sampler turns them into rates. Each may throw:
 * the sampler then reports that metric as `null` with a note. Tests inject fakes.
 */
export interface Probes {
  /** Cumulative CPU times. */
  cpuTimes(): Promise<CpuTimes>;
  /** Memory used and total, MiB. */
  memory(): Promise<{ usedMb: number; totalMb: number }>;
  /** Cumulative block-device bytes read + written. */
  diskBytes(): Promise<number>;
  /** Cumulative network bytes received + transmitted, non-loopback. */
  netBytes(): Promise<number>;
  /** GPUs, or `null` when there is none. */
  gpus(): Promise<GpuReading[] | null>;
  /** Container limits. */
  cgroup(): Promise<CgroupLimits>;
}

/** Cumulative CPU times from `os.cpus()` (cheap everywhere; on Linux it reads `/proc/stat`). */
export function osCpuTimes(): Promise<CpuTimes> {
  const cpus = os.cpus();
  if (cpus.length === 0) return Promise.reject(new Error('os.cpus() returned no CPU'));
  let busy = 0;
  let total = 0;
  for (const { times } of cpus) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return Promise.resolve({ busyMs: busy, totalMs: total, cores: cpus.length });
}

/** Memory from `/proc/meminfo`, falling back to `systeminformation.mem()` where there is no `/proc`. */
export async function procMemory(): Promise<{ usedMb: number; totalMb: number }> {
  try {
    return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
  } catch {
    const m = await si.mem();
    return { totalMb: m.total / 2 ** 20, usedMb: (m.total - m.available) / 2 ** 20 };
  }
}

let diskNames: Promise<Set<string>> | undefined;

/**
 * Disk bytes from `/proc/diskstats` over the whole disks in `/sys/block`, falling back to
 * `systeminformation.fsStats()` (which spawns shells) where there is no `/proc`.
 */
export async function procDiskBytes(): Promise<number> {
  try {
    diskNames ??= readdir('/sys/block').then((names) => new Set(names.filter(isCountedDisk)));
    return parseDiskstatsBytes(await readFile('/proc/diskstats', 'utf8'), await diskNames);
  } catch {
    diskNames = undefined;
    const fs = await si.fsStats();
    if (fs === null || fs === undefined || typeof fs.rx !== 'number') throw new Error('no disk statistics');
    return fs.rx + fs.wx;
  }
}

/** Network bytes from `/proc/net/dev`, falling back to `systeminformation.networkStats('*')`. */
export async function procNetBytes(): Promise<number> {
  try {
    return parseNetDevBytes(await readFile('/proc/net/dev', 'utf8'));
  } catch {
    const stats = await si.networkStats('*');
    return stats.filter((s) => s.iface !== 'lo').reduce((sum, s) => sum + s.rx_bytes + s.tx_bytes, 0);
  }
}
