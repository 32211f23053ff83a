/**
 * Errors of the execution-data helpers (`src/execution`). Match them by `name`, never by message text
 * (`instanceof` breaks across Jest module registries). All are caller errors: not retryable.
 */

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
