import { InvalidMetricsOptionError } from './errors';

/** Options of the metrics endpoint (`qm worker --metrics-port`, or a worker built in code). */
export interface MetricsOptions {
  /** TCP port of the `/metrics` endpoint (0: any free port, see `metricsUrl`). Required: a worker without it serves no metrics. */
  port: number;
  /** Address to listen on. @default '0.0.0.0' (Prometheus usually scrapes from another host) */
  host?: string;
  /**
   * Also export the ledger's gauges (pending, granted, capacity, forecasts, boosts) read at scrape time.
   * Every worker that exports them reports the same cluster-wide values (dashboards take `max`); turn it
   * off on workers that should not query the ledger per scrape. @default true
   */
  ledgerGauges?: boolean;
  /** Also export Node's process metrics (`process_*`, `nodejs_*`, from prom-client). @default true */
  processMetrics?: boolean;
  /**
   * URL of the Temporal SDK Runtime's own Prometheus endpoint; its text is appended to every scrape of
   * `/metrics`, so one scrape target carries both. `qm worker` sets it when it installs the Runtime.
   * @default none: only Quartermaster's metrics
   */
  temporalMetricsUrl?: string;
}

/** {@link MetricsOptions} validated, with defaults applied. */
export interface CompiledMetricsOptions {
  readonly port: number;
  readonly host: string;
  readonly ledgerGauges: boolean;
  readonly processMetrics: boolean;
  readonly temporalMetricsUrl: string | undefined;
}

/**
 * Validates and defaults {@link MetricsOptions}.
 * @throws InvalidMetricsOptionError naming the field and the bad value.
 */
export function compileMetricsOptions(options: MetricsOptions): CompiledMetricsOptions {
  const { port } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidMetricsOptionError('port', port, 'must be an integer 0–65535');
  const host = options.host ?? '0.0.0.0';
  if (typeof host !== 'string' || host === '')
    throw new InvalidMetricsOptionError('host', host, 'must be a non-empty address');
  const url = options.temporalMetricsUrl;
  if (url !== undefined && !/^https?:\/\/[^/]+/.test(url))
    throw new InvalidMetricsOptionError('temporalMetricsUrl', url, 'must be an http:// URL');
  return {
    port,
    host,
    ledgerGauges: options.ledgerGauges ?? true,
    processMetrics: options.processMetrics ?? true,
    temporalMetricsUrl: url,
  };
}

/**
 * Parses a metrics port given as text (`--metrics-port`, `QM_METRICS_PORT`).
 * @param source - the option's name, for the error (e.g. `--metrics-port`)
 * @returns the port, or `undefined` when `text` is undefined or empty
 * @throws InvalidMetricsOptionError when it is not an integer 1–65535.
 */
export function parseMetricsPort(text: string | undefined, source: string): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidMetricsOptionError(source, text, 'must be an integer 1–65535');
  return n;
}

/**
 * The metrics port from `QM_METRICS_PORT`.
 * @throws InvalidMetricsOptionError when it is set but not a port.
 */
export function metricsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return parseMetricsPort(env.QM_METRICS_PORT, 'QM_METRICS_PORT');
}
