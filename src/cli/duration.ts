/** Durations as people type them on the command line: `30s`, `15m`, `1h`, `2d`. */

/** A duration option had a bad value. Thrown by {@link parseDuration}; `qm` exits with code 2. */
export class InvalidDurationError extends Error {
  /** Always `'InvalidDurationError'`. */
  override readonly name = 'InvalidDurationError';
  /**
   * @param option - the option, e.g. `--since`
   * @param value - what was given
   */
  constructor(
    readonly option: string,
    readonly value: string,
  ) {
    super(
      `${option} must be a positive number followed by s, m, h or d (e.g. 30s, 15m, 1h, 2d), got "${value}"`,
    );
  }
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;

/**
 * Parses `30s`, `15m`, `1h`, `2d` (a number > 0, optionally with a fraction, and one unit) into
 * milliseconds.
 * @param option - named in the error. @default '--since'
 * @throws InvalidDurationError for anything else (no unit, another unit, 0, negative, spaces).
 */
export function parseDuration(text: string, option = '--since'): number {
  const m = DURATION.exec(text);
  if (m === null) throw new InvalidDurationError(option, text);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidDurationError(option, text);
  return Math.round(ms);
}
