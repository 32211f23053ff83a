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
