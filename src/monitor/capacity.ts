import os from 'node:os';
import { effectiveCapacity, readCgroupLimits } from './cgroup';
import { queryNvidiaSmi } from './gpu';

/** A node's detected capacity: cores, memory (MiB) and, when present, GPU devices. */
export interface DetectedCapacity {
  cpu: number;
  memoryMb: number;
  gpu?: number;
}

/**
 * Detects this host's capacity, container-aware: cores and memory are the smaller of the host's and the
 * cgroup limits (v2 `cpu.max`, `memory.max`; v1 `cpu.cfs_quota_us`, `memory.limit_in_bytes`); GPUs are counted with `nvidia-smi` when it is on PATH.
 * Never throws: a failing probe falls back to the host's value (or no GPU).
 * @param cgroupRoot - cgroup mount (v2, or the v1 controllers' parent); @default '/sys/fs/cgroup'
 */
export async function detectCapacity(cgroupRoot?: string): Promise<DetectedCapacity> {
  const [limits, gpus] = await Promise.all([
    readCgroupLimits(cgroupRoot),
    queryNvidiaSmi().catch(() => null),
  ]);
  const cpu = effectiveCapacity(os.cpus().length, limits.cpuCores) ?? os.cpus().length;
  const memoryMb = Math.floor(
    effectiveCapacity(os.totalmem() / 2 ** 20, limits.memoryMb) ?? os.totalmem() / 2 ** 20,
  );
  return { cpu, memoryMb, ...(gpus && gpus.length > 0 ? { gpu: gpus.length } : {}) };
}
