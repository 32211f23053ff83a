/**
 * Errors thrown by the resource monitor and forecaster (`src/monitor`). Match them by `name`, never by
 * message text: `instanceof` breaks across Jest module registries and Temporal's workflow sandbox.
 */

/**
 * An option passed to the sampler, a forecaster or the trace tools is out of range or of the wrong kind.
 * Thrown synchronously by constructors and option compilers, before anything starts.
 */
export class InvalidMonitorOptionError extends Error {
  override readonly name = 'InvalidMonitorOptionError';
  /**
   * @param option - the option's name, e.g. `intervalMs`
   * @param value - the rejected value, as given
   * @param reason - what is wrong with it, e.g. `must be >= 500`
   */
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid monitor option ${option}=${JSON.stringify(value) ?? String(value)}: ${reason}`);
  }
}

/**
 * A trace file (see `parseTrace`) is not valid JSON or does not have the trace shape. Thrown by
 * `parseTrace` and `readTraceFile`; `file` names the file and `path` the offending field (e.g.
 * `samples[3].t`), so a person can fix it.
 */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  /**
   * @param file - the file (or label) the trace came from
   * @param path - the JSON path of the offending field; `''` for the whole document
   * @param problem - what is wrong, e.g. `must be a finite number`
   */
  constructor(
    readonly file: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${file}: ${path === '' ? '' : `${path}: `}${problem}`);
  }
}

/**
 * The sampler was asked to do something its state does not allow (e.g. `start()` while running).
 * Thrown by `Sampler.start`.
 */
export class SamplerStateError extends Error {
  override readonly name = 'SamplerStateError';
  /** @param problem - what was attempted and why it is not allowed */
  constructor(readonly problem: string) {
    super(problem);
  }
}
