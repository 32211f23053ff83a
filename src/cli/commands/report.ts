import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { ExecutionRecord } from '../../execution/record';
import { loadExecutions, type ExecutionSource } from '../../execution/source';
import type { Database } from '../../ledger/db';
import { snapshot } from '../../ledger/snapshot';
import { readRecordsFile } from '../../report/records-file';
import { renderExecutionReport } from '../../report/render';
import type { ReportInput, ReportSection } from '../../report/types';
import { UsageError, withDatabase } from '../context';
import { parseDuration } from '../duration';

/** Options of `qm report`. */
export interface ReportCommandOptions {
  /** Where to write the HTML page. */
  out: string;
  /**
   * Only executions that ended within this long before now (`30s`, `15m`, `1h`, `2d`); for a `records`
   * file, "now" is its latest end. @default '1h' from the ledger, everything from a file
   */
  since?: string;
  /** Only pipelines of this definition name. @default all */
  pipeline?: string;
  /** Read the records from this file (`qm simulate --records-out`) instead of the ledger. */
  records?: string;
  /** At most this many executions from the ledger (the most recent). @default 10000 */
  limit?: number;
}

/** What {@link reportCommand} did. */
export interface ReportCommandResult {
  /** The file written. */
  readonly out: string;
  /** Executions drawn. */
  readonly executions: number;
}

/** What `qm report` reads from the ledger; injectable for tests. */
export interface ReportSources {
  /** Opens the ledger database for `fn`. @default withDatabase (DATABASE_URL or a running `qm dev`) */
  withDb?: <T>(fn: (db: Database) => Promise<T>) => Promise<T>;
  /** The execution source. @default loadExecutions */
  executions?: ExecutionSource;
}

/** The default window of `qm report` on the ledger. */
export const DEFAULT_REPORT_SINCE = '1h';

function fromFile(file: string, options: ReportCommandOptions, sinceMs: number | null): ReportInput {
  const data = readRecordsFile(file);
  let records: readonly ExecutionRecord[] = data.records;
  if (options.pipeline !== undefined) records = records.filter((r) => r.definitionName === options.pipeline);
  if (sinceMs !== null) {
    const latest = records.reduce((m, r) => Math.max(m, r.endedAt.getTime()), -Infinity);
    records = records.filter((r) => r.endedAt.getTime() >= latest - sinceMs);
  }
  const section: ReportSection = {
    title: data.simulated ? 'Simulated executions' : 'Executions',
    records,
    nodes: data.nodes,
    samples: data.samples,
  };
  return {
    title: data.title,
    subtitle: `${records.length} execution(s) from ${path.basename(file)}${describeFilter(options)}`,
    simulated: data.simulated,
    sections: [section],
    generatedAt: new Date(),
  };
}

function describeFilter(options: ReportCommandOptions): string {
  return (
    (options.pipeline === undefined ? '' : `, pipeline ${options.pipeline}`) +
    (options.since === undefined ? '' : `, ended in the last ${options.since}`)
  );
}

async function fromLedger(
  options: ReportCommandOptions,
  sinceMs: number,
  sources: ReportSources,
): Promise<ReportInput> {
  const withDb = sources.withDb ?? withDatabase;
  const load = sources.executions ?? loadExecutions;
  return withDb(async (db) => {
    const snap = await snapshot(db);
    const since = new Date(snap.now.getTime() - sinceMs);
    const records = await load(db, {
      since,
      ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline }),
      limit: options.limit ?? 10_000,
    });
    const nodes = snap.nodes.map((n) => ({ id: n.id, capacity: n.capacity }));
    return {
      title: 'Quartermaster executions',
      subtitle:
        `${records.length} execution(s) that ended since ${since.toISOString()}` +
        `${options.pipeline === undefined ? '' : `, pipeline ${options.pipeline}`} (schema ${db.schema})`,
      sections: [{ title: 'Ledger', records, nodes }],
      generatedAt: snap.now,
    };
  });
}

/**
 * `qm report`: writes the execution report (a self-contained HTML page) of the ledger's recent executions,
 * or of a records file written by `qm simulate --records-out`.
 * @throws InvalidDurationError for a bad `since`; UsageError for a bad limit; RecordsFileError for an
 *   unreadable or invalid records file; UsageError / ServiceUnavailableError when the ledger is unavailable.
 */
export async function reportCommand(
  options: ReportCommandOptions,
  sources: ReportSources = {},
): Promise<ReportCommandResult> {
  const sinceMs =
    options.since === undefined
      ? options.records === undefined
        ? parseDuration(DEFAULT_REPORT_SINCE)
        : null
      : parseDuration(options.since, '--since');
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0))
    throw new UsageError(`--limit must be an integer > 0, got ${options.limit}`);
  const input =
    options.records === undefined
      ? await fromLedger(options, sinceMs as number, sources)
      : fromFile(options.records, options, sinceMs);
  writeFileSync(options.out, renderExecutionReport(input));
  const executions = input.sections.reduce((n, s) => n + s.records.length, 0);
  return { out: options.out, executions };
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be an integer > 0, got "${text}"`);
  return n;
}

interface ReportCliOptions {
  out: string;
  since?: string;
  pipeline?: string;
  records?: string;
  limit?: number;
}

/** Adds `report`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'write an HTML report of executions: Gantt per node, queue and waits by priority band, capacity, estimate accuracy',
    )
    .requiredOption('--out <file>', 'the HTML file to write (self-contained: opens offline)')
    .option(
      '--since <duration>',
      'executions that ended in the last 30s / 15m / 1h / 2d (default 1h; a file: all)',
    )
    .option('--pipeline <name>', 'only pipelines of this definition name')
    .option('--records <file>', 'read records written by `qm simulate --records-out` instead of the ledger')
    .option('--limit <n>', 'at most this many executions from the ledger (default 10000)', positiveInteger)
    .action(async (opts: ReportCliOptions) => {
      const result = await reportCommand({
        out: opts.out,
        ...(opts.since === undefined ? {} : { since: opts.since }),
        ...(opts.pipeline === undefined ? {} : { pipeline: opts.pipeline }),
        ...(opts.records === undefined ? {} : { records: opts.records }),
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      });
      process.stdout.write(`report written to ${result.out} (${result.executions} executions)\n`);
    });
}
