import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

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
  Runtime.install({ logger: new DefaultLogger(level) });
}
