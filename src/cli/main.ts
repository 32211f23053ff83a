import { Command, CommanderError } from 'commander';
import { registerDefinitionCommands } from './commands/definitions';
import { registerDevCommand } from './commands/dev';
import { registerPipelineCommands } from './commands/pipelines';
import { registerWorkerCommand } from './commands/worker';
import { registerMonitorCommands } from './commands/monitor';
import { registerLedgerCommands } from './commands/ledger';
import { registerSchedulingCommands } from './commands/scheduling';
import { registerReportCommand } from './commands/report';
import { registerSimulateCommands } from './commands/simulate';
import { registerExecutionCommands } from './commands/executions';
import { installCliRuntime } from './runtime';

/** Exit codes: 0 ok, 1 failure, 2 bad usage or invalid input, 3 a service (Temporal, PostgreSQL) unreachable. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3 } as const;

const USAGE_ERRORS = new Set([
  'UsageError',
  'DefinitionProblemsError',
  'DefinitionNotFoundError',
  'InvalidDefinitionError',
  'InvalidDurationError',
  'RecordsFileError',
]);

/** Builds the `qm` program (exported so tests can run commands in-process). */
export function buildProgram(): Command {
  const program = new Command('qm')
    .description('Quartermaster: run Temporal pipelines by priority and predicted resource availability')
    .version('0.1.0')
    .showHelpAfterError()
    .option(
      '--connect-timeout <seconds>',
      'how long to wait for Temporal and PostgreSQL before exit code 3 (default 5; env QM_CONNECT_TIMEOUT)',
    )
    .exitOverride()
    .hook('preAction', (command) => {
      const seconds = (command.opts() as { connectTimeout?: string }).connectTimeout;
      if (seconds !== undefined) process.env.QM_CONNECT_TIMEOUT = seconds;
    });
  registerDevCommand(program);
  registerWorkerCommand(program);
  registerDefinitionCommands(program);
  registerPipelineCommands(program);
  registerSchedulingCommands(program);
  registerLedgerCommands(program);
  registerMonitorCommands(program);
  registerSimulateCommands(program);
  registerReportCommand(program);
  registerExecutionCommands(program);
  return program;
}

/** Maps an error to its exit code and prints it without a stack (the stack only with QM_DEBUG=1). */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  // Duck-typed: errors from Node internals may come from another realm (instanceof Error is false there).
  const e =
    typeof err === 'object' && err !== null && 'message' in err ? (err as Error) : new Error(String(err));
  const lines =
    e.name === 'DefinitionProblemsError'
      ? ((e as Error & { lines: string[] }).lines ?? [e.message])
      : [`qm: ${e.message}`];
  process.stderr.write(`${lines.join('\n')}\n`);
  if (process.env.QM_DEBUG === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
  if (USAGE_ERRORS.has(e.name)) return EXIT.usage;
  if (
    e.name === 'ServiceUnavailableError' ||
    e.name === 'DatabaseUnavailableError' ||
    e.name === 'TransportError' ||
    /ECONNREFUSED|UNAVAILABLE/.test(e.message)
  ) {
    return EXIT.unavailable;
  }
  return EXIT.failure;
}

/** Runs `qm` with `argv` (without `node` and the script). */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  void installCliRuntime(argv)
    .then(() => main(argv))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.exitCode = reportError(err);
      },
    );
}
