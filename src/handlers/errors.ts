/** Errors raised around stage handlers. Match by `name`; the activity layer maps them to Temporal failures. */

/** A definition names a handler no worker registered. Not retryable: the stage fails at once. */
export class UnknownHandlerError extends Error {
  override readonly name = 'UnknownHandlerError';
  constructor(
    readonly handler: string,
    readonly known: readonly string[],
  ) {
    super(`unknown stage handler "${handler}" (registered: ${known.join(', ')})`);
  }
}

/** A handler got input it cannot use (wrong type or missing field). Not retryable: a retry sees the same input. */
export class InvalidStageInputError extends Error {
  override readonly name = 'InvalidStageInputError';
  constructor(
    readonly handler: string,
    readonly field: string,
    message: string,
  ) {
    super(`${handler}: input.${field} ${message}`);
  }
}

/** A second handler was registered under a name already taken. */
export class DuplicateHandlerError extends Error {
  override readonly name = 'DuplicateHandlerError';
  constructor(readonly handler: string) {
    super(`a stage handler named "${handler}" is already registered`);
  }
}

/** Raised by `qm.fail` on purpose (retryable), to exercise retries. */
export class DeliberateFailureError extends Error {
  override readonly name = 'DeliberateFailureError';
}

/** Error names that mean "retrying cannot help". */
export const NON_RETRYABLE_HANDLER_ERRORS: readonly string[] = [
  'UnknownHandlerError',
  'InvalidStageInputError',
];
