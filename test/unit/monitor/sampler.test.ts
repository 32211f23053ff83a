import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CGROUP_RECHECK_MS, Sampler } from '../../../src/monitor/sampler';
import type { Probes } from '../../../src/monitor/probes';
import type { UsageSample } from '../../../src/monitor/types';

/** Fake probes driven by a step counter: counters grow linearly so rates are known. */
function fakeProbes(overrides: Partial<Probes> = {}): {
  probes: Partial<Probes>;
  clock: () => number;
  tick: () => void;
} {
  let step = 0;
  const clock = (): number => 1_000_000 + step * 1000;
  const probes: Partial<Probes> = {
    cpuTimes: async () => ({ busyMs: step * 1500, totalMs: step * 4000, cores: 4 }), // 1.5 of 4 cores busy
    memory: async () => ({ usedMb: 1000 + step, totalMb: 16_000 }),
    diskBytes: async () => step * 3 * 2 ** 20, // 3 MiB/s
    netBytes: async () => step * 125_000, // 1 Mbit/s
    gpus: async () => null,
    cgroup: async () => ({ cpuCores: 2, memoryMb: 8000, notes: [] }),
    ...overrides,
  };
  return { probes, clock, tick: () => step++ };
}

describe('Sampler (fake probes)', () => {
  it('drops the priming reading and computes rates from counters and the injected clock', async () => {
    const { probes, clock, tick } = fakeProbes();
    const sampler = new Sampler({ probes, now: clock });
    expect(await sampler.sampleOnce()).toBeUndefined();
    tick();
    const s = (await sampler.sampleOnce()) as UsageSample;
    expect(s).toMatchObject({
      at: 1_001_000,
      cpuCores: 2, // cgroup quota below the host's 4 cores
      memoryMb: 1001,
      memoryTotalMb: 8000,
      gpus: null,
      notes: [],
    });
    expect(s.cpu).toBeCloseTo(1.5, 9);
    expect(s.diskIoMBps).toBeCloseTo(3, 9);
    expect(s.netMbps).toBeCloseTo(1, 9);
  });

  it('degrades a failing probe to null with a note, and keeps sampling', async () => {
    const { probes, clock, tick } = fakeProbes({
      diskBytes: async () => {
        throw new Error('diskstats unreadable');
      },
      gpus: async () => {
        throw new Error('nvidia-smi failed: timeout');
      },
    });
    const sampler = new Sampler({ probes, now: clock });
    await sampler.sampleOnce();
    tick();
    const s = (await sampler.sampleOnce()) as UsageSample;
    expect(s.diskIoMBps).toBeNull();
    expect(s.gpus).toBeNull();
    expect(s.cpu).toBeCloseTo(1.5, 9);
    expect(s.notes.map((n) => n.probe).sort()).toEqual(['disk', 'gpu']);
  });

  it('reports a counter that went backwards (reset) as null, not negative', async () => {
    let n = 10_000;
    const { probes, clock, tick } = fakeProbes({ netBytes: async () => (n -= 1000) });
    const sampler = new Sampler({ probes, now: clock });
    await sampler.sampleOnce();
    tick();
    expect((await sampler.sampleOnce())?.netMbps).toBeNull();
  });

  it('delivers samples on a timer via onSample, then stops', async () => {
    const { probes } = fakeProbes();
    let calls = 0;
    const now = (): number => Date.now();
    const seen: UsageSample[] = [];
    const sampler = new Sampler({
      intervalMs: 500,
      now,
      probes: {
        ...probes,
        cpuTimes: async () => ({ busyMs: ++calls * 100, totalMs: calls * 400, cores: 4 }),
      },
      onSample: (s) => seen.push(s),
    });
    await sampler.start();
    await expect(sampler.start()).rejects.toMatchObject({ name: 'SamplerStateError' });
    await new Promise((r) => setTimeout(r, 1300));
    await sampler.stop();
    const count = seen.length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(count).toBeLessThanOrEqual(3);
    expect(sampler.latestSample).toBe(seen[count - 1]);
    await new Promise((r) => setTimeout(r, 600));
    expect(seen.length).toBe(count);
  });

  it('survives an onSample that throws', async () => {
    const { probes, clock, tick } = fakeProbes();
    const errors: unknown[] = [];
    const sampler = new Sampler({
      probes,
      now: clock,
      onSample: () => {
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    await sampler.sampleOnce();
    tick();
    await expect(sampler.sampleOnce()).resolves.toBeDefined();
    expect(errors).toHaveLength(1);
  });

  it.each([[499], [0], [Number.NaN], [Infinity]])('rejects intervalMs %p', (intervalMs) => {
    expect(() => new Sampler({ intervalMs })).toThrow(
      expect.objectContaining({ name: 'InvalidMonitorOptionError' }),
    );
  });
});

describe('Sampler cgroup limits (real reader, temporary cgroup directory)', () => {
  it('reuses the limits for CGROUP_RECHECK_MS, then reads them again', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-cgroup-'));
    try {
      writeFileSync(path.join(dir, 'cpu.max'), '150000 100000\n');
      writeFileSync(path.join(dir, 'memory.max'), 'max\n');
      const { probes, clock, tick } = fakeProbes();
      delete probes.cgroup; // use the sampler's own (cached) reader of `cgroupRoot`
      const sampler = new Sampler({ probes, now: clock, cgroupRoot: dir });
      await sampler.sampleOnce();
      tick();
      expect((await sampler.sampleOnce())?.cpuCores).toBe(1.5);
      writeFileSync(path.join(dir, 'cpu.max'), '100000 100000\n');
      tick();
      expect((await sampler.sampleOnce())?.cpuCores).toBe(1.5); // 2 s after the read: cached
      for (let s = 0; s < CGROUP_RECHECK_MS / 1000; s++) tick();
      expect((await sampler.sampleOnce())?.cpuCores).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
