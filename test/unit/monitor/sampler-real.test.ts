import os from 'node:os';
import { Sampler } from '../../../src/monitor/sampler';
import type { UsageSample } from '../../../src/monitor/types';

// Runs the real sampler against this machine for ~3 s. It lives with the unit tests because it needs
// only the machine, not the Temporal/PostgreSQL global setup of the integration project.
describe('Sampler on the real machine', () => {
  it('samples plausible values at 1 Hz and drops the first reading', async () => {
    const seen: UsageSample[] = [];
    const sampler = new Sampler({ intervalMs: 1000, onSample: (s) => seen.push(s) });
    const started = Date.now();
    await sampler.start();
    expect(seen).toHaveLength(0); // the priming reading is never delivered
    await new Promise((r) => setTimeout(r, 3200));
    await sampler.stop();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(4);
    const hostCores = os.cpus().length;
    const hostMb = os.totalmem() / 2 ** 20;
    for (const s of seen) {
      expect(s.at).toBeGreaterThan(started);
      expect(s.cpuCores).not.toBeNull();
      expect(s.cpuCores).toBeLessThanOrEqual(hostCores);
      expect(s.cpu).not.toBeNull();
      expect(s.cpu).toBeGreaterThanOrEqual(0);
      expect(s.cpu).toBeLessThanOrEqual(s.cpuCores as number);
      expect(s.memoryTotalMb).toBeGreaterThan(0);
      expect(s.memoryTotalMb).toBeLessThanOrEqual(hostMb + 1);
      expect(s.memoryMb).toBeGreaterThan(0);
      expect(s.memoryMb).toBeLessThanOrEqual(s.memoryTotalMb as number);
      for (const rate of [s.diskIoMBps, s.netMbps]) {
        if (rate !== null) expect(rate).toBeGreaterThanOrEqual(0);
      }
      // No GPU must read as null, never as zero GPUs or zero utilisation.
      if (s.gpus !== null) expect(s.gpus.length).toBeGreaterThan(0);
    }
    const gaps = seen.slice(1).map((s, i) => s.at - (seen[i] as UsageSample).at);
    for (const g of gaps) expect(g).toBeGreaterThan(700);
  });
});
