import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Installs the Temporal runtime once for a `qm` process, logging at `QM_LOG_LEVEL` (default WARN: worker
 * state changes at INFO are noise at a terminal).
 * @throws Error when QM_LOG_LEVEL is not one of TRACE, DEBUG, INFO, WARN, ERROR.
 */
export function installCliRuntime(): void {
  const level = (process.env.QM_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  if (!LEVELS.includes(level))
    throw new Error(`QM_LOG_LEVEL must be one of ${LEVELS.join(', ')} (got ${level})`);
  Runtime.install({ logger: new CliLogger(level) });
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
