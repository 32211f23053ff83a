/**
 * Errors of the report module (`src/report`). Match them by `name`, never by message text. All are caller
 * errors (bad input): not retryable.
 */

/** One problem in an execution-records file: where (`records[3].startedAt`) and what. */
export interface RecordsFileIssue {
  /** The JSON path, rendered (`$` for the root). */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

/**
 * An execution-records file could not be read, is not JSON, or does not match the format. Thrown by
 * `readRecordsFile` / `parseRecordsFile` with every issue found.
 */
export class RecordsFileError extends Error {
  /** Always `'RecordsFileError'`. */
  override readonly name = 'RecordsFileError';
  /**
   * @param file - the path given (or `(input)` for text)
   * @param issues - what is wrong (at least one)
   */
  constructor(
    readonly file: string,
    readonly issues: readonly RecordsFileIssue[],
  ) {
    super(
      `invalid execution records ${file}:\n${issues
        .slice(0, 20)
        .map((i) => `  ${i.path}: ${i.message}`)
        .join('\n')}${issues.length > 20 ? `\n  … ${issues.length - 20} more` : ''}`,
    );
  }
}
