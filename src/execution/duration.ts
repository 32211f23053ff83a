/** Durations as `qm` prints them (`2m10s`; `--since 1h` is parsed by `src/cli/duration.ts`). Pure. */
/**
 * A number of seconds as `qm` prints it: `850ms`, `42s`, `2m10s`, `1h05m`, `3d4h`; `-` for null or a
 * non-finite value; a negative value gets a leading `-` (`-12s`: earlier than estimated).
 */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 0) return `-${formatSeconds(-seconds)}`;
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const total = Math.round(seconds);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const min = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${pad(min)}m`;
  if (min > 0) return `${min}m${pad(s)}s`;
  return `${s}s`;
}
