import {
  isCountedDisk,
  parseDiskstatsBytes,
  parseMeminfo,
  parseNetDevBytes,
} from '../../../src/monitor/proc-parsers';

describe('/proc parsers', () => {
  it('meminfo: used = total - available, in MiB', () => {
    const text = 'MemTotal:       2048000 kB\nMemFree:         100000 kB\nMemAvailable:    1024000 kB\n';
    expect(parseMeminfo(text)).toEqual({ totalMb: 2000, usedMb: 1000 });
    expect(() => parseMeminfo('MemTotal: 1 kB\n')).toThrow(/MemAvailable/);
  });

  it('diskstats: sums read+written sectors of the named whole disks', () => {
    const text = [
      ' 254       0 vda 25863 4833 1000 3754 7337 37070 2000 5486 0 2748 9411',
      ' 254       1 vda1 25000 4833 900 3754 7000 37070 1900 5486 0 2748 9411',
      '   7       0 loop0 0 0 50 0 0 0 50 0 0 0 0',
    ].join('\n');
    expect(parseDiskstatsBytes(text, new Set(['vda']))).toBe(3000 * 512);
    expect(['vda', 'nvme0n1', 'sda'].every(isCountedDisk)).toBe(true);
    expect(['loop0', 'zram0', 'dm-1', 'ram0'].some(isCountedDisk)).toBe(false);
  });

  it('net/dev: sums rx+tx bytes except lo', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
      '  eth0: 1000   14988    0    0    0     0          0         0  500    8976    0    0    0     0       0          0',
      '  eth1: 10   1    0    0    0     0          0         0  5    1    0    0    0     0       0          0',
    ].join('\n');
    expect(parseNetDevBytes(text)).toBe(1515);
  });
});
