/**
 * Pure parsers for Linux `/proc` files read by the default probes. Reading `/proc` directly costs a
 * few microseconds; the equivalent `systeminformation` calls spawn shells (`lsblk`, `cat`), which
 * alone would cost more than the sampler's 1 %-of-a-core budget at 1 Hz.
 */

/**
 * Parses `/proc/meminfo`.
 * @returns total and used memory in MiB, used = MemTotal − MemAvailable (page cache is not "used")
 * @throws Error when MemTotal or MemAvailable is missing
 */
export function parseMeminfo(text: string): { totalMb: number; usedMb: number } {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    if (m === null) throw new Error(`/proc/meminfo: no ${key}`);
    return Number(m[1]);
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return { totalMb: total / 1024, usedMb: Math.max(0, total - available) / 1024 };
}

/** Whether a block device name is a physical whole disk worth counting (not loop, ram, zram, dm, md). */
export function isCountedDisk(name: string): boolean {
  return !/^(loop|ram|zram|dm-|md|sr|fd)/.test(name);
}

/**
 * Parses `/proc/diskstats` and sums bytes read + written (sectors × 512) over the devices in
 * `devices` (whole disks; partitions would double-count).
 * @returns cumulative bytes since boot
 */
export function parseDiskstatsBytes(text: string, devices: ReadonlySet<string>): number {
  let sectors = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (name === undefined || !devices.has(name)) continue;
    sectors += Number(f[5] ?? 0) + Number(f[9] ?? 0);
  }
  return sectors * 512;
}

/**
 * Parses `/proc/net/dev` and sums received + transmitted bytes over every interface except `lo`.
 * @returns cumulative bytes
 */
export function parseNetDevBytes(text: string): number {
  let bytes = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name.includes('|')) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    bytes += Number(f[0] ?? 0) + Number(f[8] ?? 0);
  }
  return bytes;
}
