import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCapacity } from '../../../src/monitor/capacity';

test('capacity is the host’s unless a cgroup limit is lower', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-cg-'));
  const host = await detectCapacity(dir); // no limit files: the host's values
  expect(host.cpu).toBe(os.cpus().length);
  expect(host.memoryMb).toBe(Math.floor(os.totalmem() / 2 ** 20));
  writeFileSync(path.join(dir, 'cpu.max'), '50000 100000\n');
  writeFileSync(path.join(dir, 'memory.max'), `${512 * 2 ** 20}\n`);
  expect(await detectCapacity(dir)).toMatchObject({ cpu: 0.5, memoryMb: 512 });
  writeFileSync(path.join(dir, 'cpu.max'), 'max 100000\n');
  expect((await detectCapacity(dir)).cpu).toBe(os.cpus().length);
});
