/**
 * Observability: Prometheus metrics and structured activity logs for Quartermaster workers.
 *
 * @example
 * // In code: a worker that serves /metrics on port 9464 (qm worker --metrics-port 9464 does the same).
 * const worker = await createQuartermasterWorker({ connection, metrics: { port: 9464 } });
 * await worker.run();
 */
export { ActivityObserver, type ActivityObserverOptions } from './activity-observer';
export { InvalidMetricsOptionError, MetricsServerError } from './errors';
export {
  ForecastErrorTracker,
  type ForecastErrorSink,
  type ForecastErrorTrackerOptions,
} from './forecast-error';
export { registerLedgerGauges, type LedgerGaugesOptions } from './ledger-gauges';
export {
  compileMetricsOptions,
  metricsPortFromEnv,
  parseMetricsPort,
  type CompiledMetricsOptions,
  type MetricsOptions,
} from './options';
export { PRIORITY_BANDS, priorityBand, type PriorityBand } from './priority-band';
export {
  QuartermasterMetrics,
  UNKNOWN_HANDLER,
  type AdmissionPath,
  type CycleOutcome,
  type CycleQueueRow,
  type CycleSummary,
  type QuartermasterMetricsOptions,
  type StageOutcome,
} from './quartermaster-metrics';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server';
export { temporalPrometheusTelemetry } from './temporal-runtime';
