/**
 * Errors of the execution-data helpers (`src/execution`). Match them by `name`, never by message text
 * (`instanceof` breaks across Jest module registries). All are caller errors: not retryable.
 */

/**
 * A duration such as `--since 1h` is not one: thrown by {@link parseDuration} with the option it came from,
 * the text and what is accepted.
 */
export class InvalidDurationError extends Error {
  /** Always `'InvalidDurationError'`. */
  override readonly name = 'InvalidDurationError';
  /** Never retryable: the same text fails again. */
  readonly retryable = false;
  /**
   * @param option - where the text came from, e.g. `--since`
   * @param text - the text given
   */
  constructor(
    readonly option: string,
    readonly text: string,
  ) {
    super(
      `${option} "${text}" is not a duration: use a number and a unit, e.g. 30s, 15m, 1h or 2d (s, m, h, d)`,
    );
  }
}

/** Samples given to {@link learnedSeconds} or {@link quantile} are not usable (non-finite, negative). */
export class InvalidSampleError extends Error {
  /** Always `'InvalidSampleError'`. */
  override readonly name = 'InvalidSampleError';
  /** Never retryable. */
  readonly retryable = false;
  /**
   * @param path - which value, e.g. `runs[3].runSeconds`
   * @param value - the bad value
   * @param expected - what was expected
   */
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${path} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}
