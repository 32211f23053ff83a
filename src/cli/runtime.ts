import { DefaultLogger, Runtime, type LogEntry, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { temporalPrometheusTelemetry } from '../metrics/temporal-runtime';
import { freePort } from '../services/free-port';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
const FORMATS = ['text', 'json'] as const;

let temporalMetricsUrl: string | undefined;

/**
 * Where this process's Temporal SDK Runtime serves its Prometheus metrics, when {@link installCliRuntime}
 * enabled them (a `worker` or `dev` command with `--metrics-port`, or `QM_METRICS_PORT` set); `qm worker`
 * appends them to its own `/metrics`.
 */
export function cliTemporalMetricsUrl(): string | undefined {
  return temporalMetricsUrl;
}

/**
 * True when the command line asks for a metrics endpoint: `qm worker|dev … --metrics-port P`, or
 * `QM_METRICS_PORT` set and non-empty.
 */
export function wantsMetrics(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.QM_METRICS_PORT ?? '').trim() !== '') return true;
  const command = argv.find((a) => !a.startsWith('-'));
  return (
    (command === 'worker' || command === 'dev') &&
    argv.some((a) => a === '--metrics-port' || a.startsWith('--metrics-port='))
  );
}

/**
 * Installs the Temporal runtime once for a `qm` process, logging at `QM_LOG_LEVEL` (default WARN: worker
 * state changes at INFO are noise at a terminal) as text, or one JSON object per line with
 * `QM_LOG_FORMAT=json`. When `argv` asks for metrics (see {@link wantsMetrics}) the Runtime also serves its
 * own Prometheus metrics on a free loopback port ({@link cliTemporalMetricsUrl}).
 * @throws Error when QM_LOG_LEVEL is not one of TRACE, DEBUG, INFO, WARN, ERROR, or QM_LOG_FORMAT not text
 *   or json.
 */
export async function installCliRuntime(argv: readonly string[] = [], env = process.env): Promise<void> {
  const level = (env.QM_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  if (!LEVELS.includes(level))
    throw new Error(`QM_LOG_LEVEL must be one of ${LEVELS.join(', ')} (got ${level})`);
  const format = (env.QM_LOG_FORMAT ?? 'text').toLowerCase();
  if (!(FORMATS as readonly string[]).includes(format))
    throw new Error(`QM_LOG_FORMAT must be one of ${FORMATS.join(', ')} (got ${format})`);
  let telemetryOptions;
  if (wantsMetrics(argv, env)) {
    const port = await freePort();
    telemetryOptions = temporalPrometheusTelemetry(`127.0.0.1:${port}`);
    temporalMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  }
  Runtime.install({
    logger: new CliLogger(level, format === 'json' ? jsonLine : undefined),
    ...(telemetryOptions ? { telemetryOptions } : {}),
  });
}

/**
 * One log entry as one JSON line on stderr: `{ time, level, message, …meta }` (meta fields never overwrite
 * the first three).
 */
export function jsonLine(entry: LogEntry): void {
  process.stderr.write(`${formatJsonLine(entry)}\n`);
}

/** The JSON text of one log entry (see {@link jsonLine}). */
export function formatJsonLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify(
    { ...entry.meta, time, level: entry.level, message: entry.message },
    (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v,
  );
}

/**
 * The SDK's default logger, minus one expected warning: a node's own queue runs activities only, so its
 * Worker says "No workflows registered" — by design, not a problem.
 */
class CliLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const queue = (meta as { taskQueue?: unknown } | undefined)?.taskQueue;
    if (
      message.startsWith('No workflows registered') &&
      typeof queue === 'string' &&
      queue.startsWith('quartermaster-node-')
    ) {
      return;
    }
    super.log(level, message, meta);
  }
}
