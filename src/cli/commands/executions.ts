import type { Command } from 'commander';
import type { QueueRow } from '../../admission/types';
import { formatSeconds } from '../../execution/duration';
import { parseDuration } from '../duration';
import type { ExecutionRecord } from '../../execution/record';
import type { Database } from '../../ledger/db';
import {
  estimateAccuracy,
  listExecutions,
  listRunEstimates,
  MAX_LIST_LIMIT,
  type EstimateAccuracy,
  type RunEstimate,
} from '../../ledger/executions';
import { formatVector } from '../../ledger/vectors';
import { UsageError, withDatabase } from '../context';
import { formatTable } from '../output';

/** Options of `qm history`. */
export interface HistoryOptions {
  /** Only this pipeline (definition name). @default every pipeline */
  pipeline?: string;
  /** Only attempts that ended within this long before now: `30s`, `15m`, `1h`, `2d`. @default 1h */
  since?: string;
  /** At most this many rows (the newest), 1–100,000. @default 100 */
  limit?: string;
  /** Print JSON (an array of execution records) instead of a table. @default false */
  json?: boolean;
}

/** How far back `qm history` looks by default. */
export const DEFAULT_HISTORY_SINCE = '1h';
/** Rows `qm history` prints by default. */
export const DEFAULT_HISTORY_LIMIT = 100;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_HISTORY_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT)
    throw new UsageError(`--limit "${text}" must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  return n;
}

function seconds(from: Date | null, to: Date | null): number | null {
  return from === null || to === null ? null : (to.getTime() - from.getTime()) / 1000;
}

function isoSeconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The `qm history` table of `records` (newest first, as given). Pure. */
export function formatHistory(records: readonly ExecutionRecord[]): string {
  return formatTable(
    ['ENDED', 'PIPELINE', 'WORKFLOW', 'STAGE', 'TRY', 'PRIO', 'NODE', 'GRANTED', 'WAIT', 'RUN', 'OUTCOME'],
    records.map((r) => [
      isoSeconds(r.endedAt),
      r.definitionName === '' ? '-' : r.definitionName,
      r.workflowId,
      r.shardIndex === null ? r.stageId : `${r.stageId}#${r.shardIndex}`,
      String(r.attempt),
      String(r.priority),
      r.nodeId ?? '-',
      r.granted === null
        ? '-'
        : `${formatVector(r.granted)}${r.reduced ? ' (reduced' : ''}${
            r.shrinks > 0 ? `${r.reduced ? ', ' : ' ('}shrunk ${r.shrinks}x` : ''
          }${r.reduced || r.shrinks > 0 ? ')' : ''}`,
      formatSeconds(seconds(r.requestedAt, r.grantedAt ?? r.endedAt)),
      formatSeconds(seconds(r.startedAt, r.startedAt === null ? null : r.endedAt)),
      r.outcome,
    ]),
  );
}

/**
 * What `qm history` prints: the attempts that ended in the last `since` (newest first), as a table or, with
 * `json`, as a JSON array of execution records. `since` counts back from the database's clock (or `now`).
 * @throws InvalidDurationError for a bad `--since`; UsageError for a bad `--limit` or an empty `--pipeline`;
 *   DatabaseUnavailableError.
 */
export async function historyOutput(db: Database, options: HistoryOptions, now?: Date): Promise<string> {
  const sinceMs = parseDuration(options.since ?? DEFAULT_HISTORY_SINCE, '--since');
  const limit = parseLimit(options.limit);
  if (options.pipeline !== undefined && options.pipeline.trim() === '')
    throw new UsageError('--pipeline needs a definition name');
  const at = now ?? (await db.pool.query<{ now: Date }>('SELECT now() AS now')).rows[0]?.now ?? new Date();
  const records = await listExecutions(db, {
    since: new Date(at.getTime() - sinceMs),
    limit,
    ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline }),
  });
  if (options.json) return `${JSON.stringify(records, null, 2)}\n`;
  if (records.length === 0)
    return `no stage attempts ended in the last ${options.since ?? DEFAULT_HISTORY_SINCE}${
      options.pipeline === undefined ? '' : ` for pipeline "${options.pipeline}"`
    }\n`;
  return formatHistory(records);
}

/** What `qm estimates --json` prints. */
export interface EstimatesListing {
  /** Learned run times per stage key. */
  learned: RunEstimate[];
  /** Accuracy of start and run-time estimates per stage key. */
  accuracy: EstimateAccuracy[];
}

function kindLabel(a: EstimateAccuracy): string {
  return a.kind === 'start' ? 'start' : `run time (${a.source ?? 'unknown'})`;
}

/** The `qm estimates` tables. Pure. */
export function formatEstimates(listing: EstimatesListing): string {
  const key = (name: string, stage: string, handler: string): string[] => [
    name === '' ? '-' : name,
    stage,
    handler === '' ? '-' : handler,
  ];
  const accuracy =
    listing.accuracy.length === 0
      ? 'no estimate can be checked yet (no attempt has started after an estimate or completed with a prediction)\n'
      : formatTable(
          ['PIPELINE', 'STAGE', 'HANDLER', 'ESTIMATE', 'N', 'MAE', 'BIAS', 'P90 |ERR|'],
          listing.accuracy.map((a) => [
            ...key(a.definitionName, a.stageId, a.handler),
            kindLabel(a),
            String(a.n),
            formatSeconds(a.maeSeconds),
            `${a.biasSeconds > 0 ? '+' : ''}${formatSeconds(a.biasSeconds)}`,
            formatSeconds(a.p90AbsSeconds),
          ]),
        );
  const learned =
    listing.learned.length === 0
      ? 'no learned run times yet (a stage key needs completed runs)\n'
      : formatTable(
          ['PIPELINE', 'STAGE', 'HANDLER', 'LEARNED RUN', 'N', 'UPDATED'],
          listing.learned.map((l) => [
            ...key(l.definitionName, l.stageId, l.handler),
            formatSeconds(l.seconds),
            String(l.samples),
            isoSeconds(l.updatedAt),
          ]),
        );
  return `Estimate accuracy (error = actual − estimated; + means later or longer):\n${accuracy}\nLearned run times (p90 of the last 50 completed runs at the desired allocation; used from 3 runs on):\n${learned}`;
}

/**
 * What `qm estimates` prints: per stage key, how good the start and run-time estimates were (n, mean absolute
 * error, bias, p90 absolute error) and the learned run times; with `json`, an {@link EstimatesListing}.
 * @throws DatabaseUnavailableError.
 */
export async function estimatesOutput(db: Database, options: { json?: boolean }): Promise<string> {
  const listing: EstimatesListing = {
    learned: await listRunEstimates(db),
    accuracy: await estimateAccuracy(db),
  };
  if (options.json) return `${JSON.stringify(listing, null, 2)}\n`;
  return formatEstimates(listing);
}

/**
 * The `EXPECTED RUN` cell of a `qm queue` row: `2m10s` for a declared run time, `~2m10s (learned, n=14)`
 * for a learned one, `unknown` for a waiting row without either, empty for grant and shard rows.
 */
export function formatExpectedRun(
  row: Pick<QueueRow, 'decision' | 'expectedSeconds' | 'expectedSource' | 'expectedSamples'>,
): string {
  if (row.decision !== 'wait') return '';
  if (row.expectedSeconds === undefined) return 'unknown';
  if (row.expectedSource !== 'learned') return formatSeconds(row.expectedSeconds);
  return `~${formatSeconds(row.expectedSeconds)} (learned${
    row.expectedSamples === undefined ? '' : `, n=${row.expectedSamples}`
  })`;
}

/** Adds `history` and `estimates`. */
export function registerExecutionCommands(program: Command): void {
  program
    .command('history')
    .description('stage attempts that ended recently, newest first (execution data in the ledger)')
    .option('--pipeline <name>', 'only this pipeline (definition name)')
    .option('--since <duration>', 'how far back: 30s, 15m, 1h, 2d', DEFAULT_HISTORY_SINCE)
    .option('--limit <n>', `at most this many rows (default ${DEFAULT_HISTORY_LIMIT})`)
    .option('--json', 'print execution records as JSON')
    .action(async (opts: HistoryOptions) => {
      // Bad input is reported before connecting to anything.
      parseDuration(opts.since ?? DEFAULT_HISTORY_SINCE, '--since');
      parseLimit(opts.limit);
      const out = await withDatabase((db) => historyOutput(db, opts));
      process.stdout.write(out);
    });
  program
    .command('estimates')
    .description('how good start and run-time estimates were per stage, and the learned run times')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = await withDatabase((db) => estimatesOutput(db, opts));
      process.stdout.write(out);
    });
}
