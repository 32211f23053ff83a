/**
 * Shapes produced by the sampler. Units are in the field names' documentation; `null` always means
 * "not measured" (a probe failed, or a rate has no previous reading yet), never zero.
 */

/** Metrics the forecaster predicts, all scalar per node. */
export type MetricName = 'cpu' | 'memoryMb' | 'diskIoMBps' | 'netMbps';

/** Every forecast metric, in display order. */
export const METRIC_NAMES: readonly MetricName[] = ['cpu', 'memoryMb', 'diskIoMBps', 'netMbps'];

/** One GPU as reported by `nvidia-smi`. */
export interface GpuReading {
  /** Device index as `nvidia-smi` numbers it. */
  index: number;
  /** Utilisation, percent 0–100; `null` when the driver reports it as not supported. */
  utilizationPct: number | null;
  /** Memory in use, MiB; `null` when not supported. */
  memoryUsedMb: number | null;
  /** Total memory, MiB; `null` when not supported. */
  memoryTotalMb: number | null;
}

/** A probe that failed during one sample; its metric is `null` in that sample. */
export interface ProbeNote {
  /** Which probe failed: `cpu`, `memory`, `disk`, `net`, `gpu` or `cgroup`. */
  probe: string;
  /** The failure, as text. */
  message: string;
}

/** One sample of a node's usage and capacity. */
export interface UsageSample {
  /** When the sample was taken, epoch milliseconds (from the sampler's clock). */
  at: number;
  /** CPU in use, in cores (0 … `cpuCores`), averaged over the interval since the previous sample. */
  cpu: number | null;
  /** CPU capacity in cores: the host's core count, or the cgroup v2 `cpu.max` quota when lower. */
  cpuCores: number | null;
  /** Memory in use, MiB (total minus available, so page cache does not count). */
  memoryMb: number | null;
  /** Memory capacity, MiB: the host's total, or cgroup v2 `memory.max` when lower. */
  memoryTotalMb: number | null;
  /** Block-device I/O, read + write, MiB/s over the interval. */
  diskIoMBps: number | null;
  /** Network traffic on all non-loopback interfaces, receive + transmit, Mbit/s (10^6 bit/s). */
  netMbps: number | null;
  /** Per-GPU readings; `null` when there is no GPU (or no `nvidia-smi`), never an empty "zero" GPU. */
  gpus: GpuReading[] | null;
  /** Probes that failed for this sample; empty when all worked. */
  notes: ProbeNote[];
}
