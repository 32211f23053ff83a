import path from 'node:path';
import {
  effectiveCapacity,
  parseCfsQuota,
  parseCpuMax,
  parseMemoryLimitInBytes,
  parseMemoryMax,
  parseProcSelfCgroup,
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

describe('cgroup v1 limits', () => {
  it.each([
    ['150000', '100000', 1.5],
    ['-1\n', '100000\n', null],
    ['50000', '50000', 1],
  ])('parseCfsQuota(%p, %p) = %p', (quota, period, expected) => {
    expect(parseCfsQuota(quota, period)).toBe(expected);
  });

  it.each([
    ['lots', '100000', /cfs_quota_us/],
    ['0', '100000', /cfs_quota_us/],
    ['-2', '100000', /cfs_quota_us/],
    ['150000', '', /cfs_period_us/],
    ['150000', '0', /cfs_period_us/],
  ])('parseCfsQuota(%p, %p) rejects', (quota, period, message) => {
    expect(() => parseCfsQuota(quota, period)).toThrow(message);
  });

  it.each([
    ['2147483648\n', 2048],
    ['9223372036854771712', null], // v1's "unlimited" on 4 KiB pages
    ['9223372036854775807', null],
    ['1099511627776', 1048576], // 1 TiB: large, but a limit
  ])('parseMemoryLimitInBytes(%p) = %p', (text, expected) => {
    expect(parseMemoryLimitInBytes(text)).toBe(expected);
  });

  it('parseMemoryLimitInBytes rejects garbage', () => {
    expect(() => parseMemoryLimitInBytes('-1')).toThrow(/limit_in_bytes/);
  });

  it('parseProcSelfCgroup maps each v1 controller to its path and skips v2 and named hierarchies', () => {
    const paths = parseProcSelfCgroup('4:memory:/a/b\n3:cpu,cpuacct:/c\n1:name=systemd:/d\n0::/e\ngarbage\n');
    expect(Object.fromEntries(paths)).toEqual({ memory: '/a/b', cpu: '/c', cpuacct: '/c' });
  });

  it.each([
    ['v1-limited', null, 1.5, 2048, 0],
    ['v1-unlimited', null, null, null, 0],
    ['v1-malformed', null, null, null, 2],
    // Own cgroup /docker/abc: cpu 0.5 core there (unlimited above); memory 1 GiB there, 4 GiB in its
    // parent, unlimited at the top: the smallest wins.
    ['v1-nested', 'self-cgroup', 0.5, 1024, 0],
    // Without the process's own path only the top directories count: both unlimited.
    ['v1-nested', null, null, null, 0],
  ])('reads %s (own cgroup from %p)', async (dir, self, cpuCores, memoryMb, notes) => {
    const limits = await readCgroupLimits(fixture(dir), {
      procSelfCgroup: self === null ? null : fixture(path.join(dir, self)),
    });
    expect(limits.cpuCores).toBe(cpuCores);
    expect(limits.memoryMb).toBe(memoryMb);
    expect(limits.notes).toHaveLength(notes);
  });

  it('a missing /proc/self/cgroup file is no limit and no note', async () => {
    const limits = await readCgroupLimits(fixture('v1-limited'), { procSelfCgroup: fixture('nope') });
    expect(limits).toEqual({ cpuCores: 1.5, memoryMb: 2048, notes: [] });
  });

  it('v2 files win over v1 directories in the same root', async () => {
    const limits = await readCgroupLimits(fixture('limited'), { procSelfCgroup: null });
    expect(limits.cpuCores).toBe(1.5);
    expect(limits.memoryMb).toBe(2048);
  });
});
