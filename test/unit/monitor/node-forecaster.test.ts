import { NodeForecaster, snapshotForLedger } from '../../../src/monitor/node-forecaster';
import type { UsageSample } from '../../../src/monitor/types';

const sample = (i: number, overrides: Partial<UsageSample> = {}): UsageSample => ({
  at: 1_764_530_000_000 + i * 1000,
  cpu: 0.1 * i,
  cpuCores: 2,
  memoryMb: 4000,
  memoryTotalMb: 8000,
  diskIoMBps: 1,
  netMbps: null,
  gpus: null,
  notes: [],
  ...overrides,
});

describe('NodeForecaster and snapshotForLedger', () => {
  it('builds the ledger snapshot: usage now, +5 s and +10 s forecasts per measured metric', () => {
    const f = new NodeForecaster({ model: 'linearTrend' });
    let last = sample(0);
    for (let i = 0; i < 15; i++) f.update((last = sample(i)));
    const snap = snapshotForLedger(last, f);
    expect(snap.at).toBe(last.at);
    expect(snap.usage).toEqual({
      cpu: last.cpu,
      cpuCores: 2,
      memoryMb: 4000,
      memoryTotalMb: 8000,
      diskIoMBps: 1,
      netMbps: null,
      gpus: null,
    });
    expect(Object.keys(snap.forecast)).toEqual(['5', '10']);
    expect(snap.forecast['5']?.cpu?.value).toBeCloseTo(1.9, 6);
    // capped at the node's 2 cores
    expect(snap.forecast['10']?.cpu?.value).toBe(2);
    expect(snap.forecast['5']?.memoryMb).toEqual({ value: 4000, lower: 4000, upper: 4000 });
    expect(snap.forecast['5']?.netMbps).toBeUndefined(); // never measured: no forecast
  });

  it('uses the default model when none is given and rejects unknown ones', () => {
    expect(() => new NodeForecaster()).not.toThrow();
    expect(() => new NodeForecaster({ model: 'magic' as never })).toThrow(
      expect.objectContaining({ name: 'InvalidMonitorOptionError' }),
    );
  });
});

describe('NodeForecaster GPUs', () => {
  const gpu = (index: number, util: number | null, mem: number | null) => ({
    index,
    utilizationPct: util,
    memoryUsedMb: mem,
    memoryTotalMb: 16_000,
  });

  it('forecasts each GPU’s utilisation and memory with the same model, clamped to 100 % and the device total', () => {
    const f = new NodeForecaster({ model: 'linearTrend' });
    // GPU 0: utilisation climbs 8 %/s from 0, memory 800 MiB/s from 5000; GPU 1: flat, no utilisation reading.
    for (let i = 0; i < 8; i++)
      f.update(sample(i, { gpus: [gpu(0, 8 * i, 5000 + 800 * i), gpu(1, null, 500)] }));
    const at5 = f.forecastGpus(5);
    expect(at5?.map((g) => g.index)).toEqual([0, 1]);
    expect(at5?.[0]?.utilizationPct?.value).toBeCloseTo(8 * (7 + 5), 6);
    expect(at5?.[0]?.memoryUsedMb?.value).toBeCloseTo(5000 + 800 * (7 + 5), 6);
    expect(at5?.[1]).toEqual({ index: 1, memoryUsedMb: { value: 500, lower: 500, upper: 500 } });
    const at10 = f.forecastGpus(10);
    expect(at10?.[0]?.utilizationPct?.value).toBe(100); // 136 % clamped to 100 %
    expect(at10?.[0]?.memoryUsedMb?.value).toBe(16_000); // 18 600 MiB clamped to the device's 16 000
  });

  it('a node without GPUs publishes no GPU forecast (absent, not empty or zero)', () => {
    const f = new NodeForecaster();
    let last = sample(0);
    for (let i = 0; i < 10; i++) f.update((last = sample(i)));
    expect(f.forecastGpus(5)).toBeNull();
    expect(snapshotForLedger(last, f).forecast['10']).not.toHaveProperty('gpus');
  });

  it('forecasts only the GPUs of the newest sample', () => {
    const f = new NodeForecaster({ model: 'lastValue' });
    for (let i = 0; i < 5; i++) f.update(sample(i, { gpus: [gpu(0, 50, 1000)] }));
    expect(f.forecastGpus(5)?.[0]?.utilizationPct?.value).toBe(50);
    expect(snapshotForLedger(sample(4), f).forecast['5']?.gpus).toEqual([
      {
        index: 0,
        utilizationPct: { value: 50, lower: 50, upper: 50 },
        memoryUsedMb: { value: 1000, lower: 1000, upper: 1000 },
      },
    ]);
    expect(f.forecast(5)).not.toHaveProperty('gpus'); // the per-metric forecasts stay scalar-only
    f.update(sample(5, { gpus: null }));
    expect(f.forecastGpus(5)).toBeNull();
    f.update(sample(6, { gpus: [gpu(0, 70, 1000)] }));
    expect(f.forecastGpus(5)?.[0]?.utilizationPct?.value).toBe(70);
  });
});
