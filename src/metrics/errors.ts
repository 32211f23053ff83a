/**
 * Errors thrown by the metrics module (`src/metrics`). Match them by `name`, never by message text:
 * `instanceof` breaks across Jest module registries and Temporal's workflow sandbox.
 */

/**
 * A metrics option (`--metrics-port`, `QM_METRICS_PORT`, `--metrics-host`) is out of range or of the wrong
 * kind. Thrown synchronously by {@link compileMetricsOptions} and {@link metricsPortFromEnv}, before anything
 * listens.
 */
export class InvalidMetricsOptionError extends Error {
  override readonly name = 'InvalidMetricsOptionError';
  /**
   * @param option - the option's name, e.g. `port` or `QM_METRICS_PORT`
   * @param value - the rejected value, as given
   * @param reason - what is wrong with it, e.g. `must be an integer 1–65535`
   */
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid metrics option ${option}=${JSON.stringify(value) ?? String(value)}: ${reason}`);
  }
}

/**
 * The metrics server could not listen (port taken, address not local). Thrown by `startMetricsServer`;
 * `address` is `host:port`.
 */
export class MetricsServerError extends Error {
  override readonly name = 'MetricsServerError';
  /**
   * @param address - `host:port` it tried to listen on
   * @param cause - the listen error's message
   */
  constructor(
    readonly address: string,
    readonly causeMessage: string,
  ) {
    super(`metrics server cannot listen on ${address}: ${causeMessage}`);
  }
}
