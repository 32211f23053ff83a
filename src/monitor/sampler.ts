import { DEFAULT_CGROUP_ROOT, effectiveCapacity, readCgroupLimits, type CgroupLimits } from './cgroup';
import { InvalidMonitorOptionError, SamplerStateError } from './errors';
import { queryNvidiaSmi } from './gpu';
import { osCpuTimes, procDiskBytes, procMemory, procNetBytes, type CpuTimes, type Probes } from './probes';
import type { ProbeNote, UsageSample } from './types';

/** The shortest sampling interval accepted, ms: rates over shorter spans are mostly noise. */
export const MIN_INTERVAL_MS = 500;

/** How long a missing `nvidia-smi` (no GPU) is remembered before looking again, ms. */
export const GPU_ABSENT_RECHECK_MS = 60_000;

/** How long cgroup limits read by the sampler are reused before being read again, ms. */
export const CGROUP_RECHECK_MS = 10_000;

/** Options for {@link Sampler}. All optional. */
export interface SamplerOptions {
  /** Time between samples, ms (≥ {@link MIN_INTERVAL_MS}). @default 1000 */
  intervalMs?: number;
  /**
   * cgroup mount whose limits cap capacity: v2 `cpu.max`/`memory.max`, else v1
   * `cpu/cpu.cfs_quota_us` (÷ period) and `memory/memory.limit_in_bytes`. @default '/sys/fs/cgroup'
   */
  cgroupRoot?: string;
  /** Clock, epoch ms; stamps samples and measures rate intervals. @default Date.now */
  now?: () => number;
  /** Called with each sample (the first, rate-less reading is never delivered). */
  onSample?: (sample: UsageSample) => void;
  /** Called when `onSample` throws; the sampler keeps running. @default writes to stderr */
  onError?: (err: unknown) => void;
  /** `nvidia-smi` executable. @default 'nvidia-smi' */
  nvidiaSmi?: string;
  /** Timeout for one `nvidia-smi` call, ms. @default 2000 */
  gpuTimeoutMs?: number;
  /** Replace some sources (tests). @default the Linux `/proc` readers with systeminformation fallbacks */
  probes?: Partial<Probes>;
}

interface Counters {
  at: number;
  cpu: CpuTimes | null;
  disk: number | null;
  net: number | null;
}

/**
 * Samples this node's usage every `intervalMs`: CPU (cores used), memory, disk I/O, network and GPUs,
 * with capacity capped by cgroup limits (v2, or v1 where the v2 files are absent). A failing probe
 * makes its metric `null` and adds a note to the sample; it never stops the sampler. The first reading
 * after `start()` only primes the rate counters and is dropped. Like `setInterval`, a running sampler
 * keeps the process alive until `stop()`.
 *
 * @example
 * const sampler = new Sampler({ onSample: (s) => console.log(s.cpu) });
 * await sampler.start();
 * // …
 * await sampler.stop();
 */
export class Sampler {
  /** The sampling interval, ms, after validation. */
  readonly intervalMs: number;
  private readonly now: () => number;
  private readonly probes: Probes;
  private readonly onSample: ((sample: UsageSample) => void) | undefined;
  private readonly onError: (err: unknown) => void;
  private previous: Counters | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private latest: UsageSample | undefined;

  /** @throws InvalidMonitorOptionError when `intervalMs` is not a finite number ≥ 500 */
  constructor(options: SamplerOptions = {}) {
    const intervalMs = options.intervalMs ?? 1000;
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < MIN_INTERVAL_MS) {
      throw new InvalidMonitorOptionError('intervalMs', intervalMs, `must be a number >= ${MIN_INTERVAL_MS}`);
    }
    this.intervalMs = intervalMs;
    this.now = options.now ?? Date.now;
    this.onSample = options.onSample;
    this.onError =
      options.onError ??
      ((err) =>
        process.stderr.write(
          `[monitor] onSample failed: ${err instanceof Error ? err.message : String(err)}\n`,
        ));
    const cgroupRoot = options.cgroupRoot ?? DEFAULT_CGROUP_ROOT;
    const nvidia = { command: options.nvidiaSmi ?? 'nvidia-smi', timeoutMs: options.gpuTimeoutMs ?? 2000 };
    this.probes = {
      cpuTimes: osCpuTimes,
      memory: procMemory,
      diskBytes: procDiskBytes,
      netBytes: procNetBytes,
      gpus: this.cachedGpuProbe(nvidia),
      cgroup: this.cachedCgroupProbe(cgroupRoot),
      ...options.probes,
    };
  }

  /**
   * `nvidia-smi` probe that remembers absence for {@link GPU_ABSENT_RECHECK_MS}: spawning a missing
   * binary every second still forks, which alone would cost a noticeable share of the CPU budget.
   */
  private cachedGpuProbe(nvidia: { command: string; timeoutMs: number }): Probes['gpus'] {
    let absentUntil = -Infinity;
    return async () => {
      if (this.now() < absentUntil) return null;
      const gpus = await queryNvidiaSmi(nvidia);
      if (gpus === null) absentUntil = this.now() + GPU_ABSENT_RECHECK_MS;
      return gpus;
    };
  }

  /**
   * cgroup probe that re-reads the limits at most every {@link CGROUP_RECHECK_MS}: they change rarely
   * (a container's are set when it starts), and a v1 lookup walks several directories (~1 ms of CPU).
   */
  private cachedCgroupProbe(root: string): Probes['cgroup'] {
    let cached: { at: number; limits: CgroupLimits } | undefined;
    return async () => {
      const now = this.now();
      if (cached !== undefined && now - cached.at < CGROUP_RECHECK_MS && now >= cached.at)
        return cached.limits;
      const limits = await readCgroupLimits(root);
      cached = { at: now, limits };
      return limits;
    };
  }

  /** Whether `start()` has been called and `stop()` has not. */
  get isRunning(): boolean {
    return this.running;
  }

  /** The newest delivered sample, if any. */
  get latestSample(): UsageSample | undefined {
    return this.latest;
  }

  /**
   * Takes the priming reading (dropped) and schedules sampling every `intervalMs`.
   * Resolves once primed.
   * @throws SamplerStateError when already running
   */
  async start(): Promise<void> {
    if (this.running) throw new SamplerStateError('Sampler.start() called while already running');
    this.running = true;
    this.previous = null;
    await this.sampleOnce();
    this.schedule(this.now() + this.intervalMs);
  }

  /** Stops sampling and waits for a sample in progress. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(due: number): void {
    if (!this.running) return;
    // Aim at a fixed cadence; if a sample ran late, skip ahead rather than bunching samples up.
    const wait = Math.max(0, due - this.now());
    this.timer = setTimeout(() => {
      const run = this.sampleOnce().then(
        () => undefined,
        (err: unknown) => this.onError(err),
      );
      this.inFlight = run;
      void run.then(() => {
        this.inFlight = undefined;
        const next = due + this.intervalMs;
        this.schedule(next > this.now() ? next : this.now() + this.intervalMs);
      });
    }, wait);
  }

  /**
   * Reads every probe once and, when a previous reading exists, delivers a sample. Exposed for tests
   * and one-shot use; `start()` drives it on a timer.
   * @returns the sample, or `undefined` for the priming reading
   */
  async sampleOnce(): Promise<UsageSample | undefined> {
    const notes: ProbeNote[] = [];
    const attempt = async <T>(probe: string, run: () => Promise<T>): Promise<T | null> => {
      try {
        return await run();
      } catch (err) {
        notes.push({ probe, message: err instanceof Error ? err.message : String(err) });
        return null;
      }
    };
    const [cpu, memory, disk, net, gpus, cgroup] = await Promise.all([
      attempt('cpu', () => this.probes.cpuTimes()),
      attempt('memory', () => this.probes.memory()),
      attempt('disk', () => this.probes.diskBytes()),
      attempt('net', () => this.probes.netBytes()),
      attempt('gpu', () => this.probes.gpus()),
      attempt<CgroupLimits>('cgroup', () => this.probes.cgroup()),
    ]);
    const at = this.now();
    const prev = this.previous;
    this.previous = { at, cpu, disk, net };
    if (prev === null) return undefined;
    if (cgroup !== null) notes.push(...cgroup.notes);

    const seconds = (at - prev.at) / 1000;
    const rate = (a: number | null, b: number | null): number | null =>
      a === null || b === null || seconds <= 0 || b < a ? null : (b - a) / seconds;
    let cpuUsed: number | null = null;
    if (cpu !== null && prev.cpu !== null) {
      const total = cpu.totalMs - prev.cpu.totalMs;
      const busy = cpu.busyMs - prev.cpu.busyMs;
      if (total > 0 && busy >= 0) cpuUsed = (busy / total) * cpu.cores;
    }
    const cpuCores = effectiveCapacity(cpu?.cores ?? null, cgroup?.cpuCores ?? null);
    const diskRate = rate(prev.disk, disk);
    const netRate = rate(prev.net, net);
    const sample: UsageSample = {
      at,
      cpu: cpuUsed === null ? null : cpuCores === null ? cpuUsed : Math.min(cpuUsed, cpuCores),
      cpuCores,
      memoryMb: memory?.usedMb ?? null,
      memoryTotalMb: effectiveCapacity(memory?.totalMb ?? null, cgroup?.memoryMb ?? null),
      diskIoMBps: diskRate === null ? null : diskRate / 2 ** 20,
      netMbps: netRate === null ? null : (netRate * 8) / 1e6,
      gpus,
      notes,
    };
    this.latest = sample;
    try {
      this.onSample?.(sample);
    } catch (err) {
      this.onError(err);
    }
    return sample;
  }
}
