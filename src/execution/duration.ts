/**
 * Durations as people type them on the command line (`--since 1h`) and as `qm` prints them (`2m10s`).
 * Pure.
 */
import { InvalidDurationError } from './errors';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration {@link parseDuration} accepts: 3,650 days (ten years), ms. */
export const MAX_DURATION_MS = 3650 * UNIT_MS.d;

/**
 * Parses a duration with a unit: `30s`, `15m`, `1h`, `2d`, `1.5h` → milliseconds (rounded). Surrounding
 * spaces are ignored; the unit is required (a bare `90` is ambiguous on a `--since`).
 * @param option - the option it came from, named in the error. @default '--since'
 * @throws InvalidDurationError for anything else: no unit, an unknown unit, zero, negative, or more than
 *   {@link MAX_DURATION_MS}.
 */
export function parseDuration(text: string, option = '--since'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(typeof text === 'string' ? text.trim() : '');
  if (m === null) throw new InvalidDurationError(option, String(text));
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  if (!(ms > 0) || ms > MAX_DURATION_MS) throw new InvalidDurationError(option, text);
  return ms;
}

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
