import path from 'node:path';
import {
  effectiveCapacity,
  parseCpuMax,
  parseMemoryMax,
  readCgroupLimits,
} from '../../../src/monitor/cgroup';

const fixture = (name: string): string => path.join(__dirname, '../../fixtures/cgroup', name);

describe('cgroup v2 limits', () => {
  it.each([
    ['150000 100000', 1.5],
    ['max 100000', null],
    ['max', null],
    ['50000 100000\n', 0.5],
  ])('parseCpuMax(%p) = %p', (text, expected) => {
    expect(parseCpuMax(text)).toBe(expected);
  });

  it.each([['lots'], [''], ['-5 100000'], ['1 2 3']])('parseCpuMax rejects %p', (text) => {
    expect(() => parseCpuMax(text)).toThrow(/cpu\.max/);
  });

  it.each([
    ['2147483648', 2048],
    ['max\n', null],
  ])('parseMemoryMax(%p) = %p', (text, expected) => {
    expect(parseMemoryMax(text)).toBe(expected);
  });

  it('parseMemoryMax rejects garbage', () => {
    expect(() => parseMemoryMax('12abc')).toThrow(/memory\.max/);
  });

  it.each([
    ['limited', 1.5, 2048, 0],
    ['unlimited', null, null, 0],
    ['missing', null, null, 0],
    ['malformed', null, null, 2],
    ['does-not-exist', null, null, 0],
  ])('reads %s', async (dir, cpuCores, memoryMb, notes) => {
    const limits = await readCgroupLimits(fixture(dir));
    expect(limits.cpuCores).toBe(cpuCores);
    expect(limits.memoryMb).toBe(memoryMb);
    expect(limits.notes).toHaveLength(notes);
    for (const n of limits.notes) expect(n.probe).toBe('cgroup');
  });

  it.each([
    [8, 1.5, 1.5],
    [2, 4, 2],
    [2, null, 2],
    [null, 3, 3],
    [null, null, null],
  ])('effectiveCapacity(%p, %p) = %p', (host, limit, expected) => {
    expect(effectiveCapacity(host, limit)).toBe(expected);
  });
});
