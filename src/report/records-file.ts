/**
 * The execution-records file: what `qm simulate --records-out` writes and `qm report --records` reads.
 * JSON; dates as ISO 8601 strings; versioned (`format`, `version`), so a later shape can be told apart.
 *
 * @example
 * { "format": "quartermaster-execution-records", "version": 1, "title": "…", "simulated": true,
 *   "nodes": [{ "id": "n1", "capacity": { "cpu": 16 } }], "samples": [],
 *   "records": [{ "workflowId": "s0-etl", "stageId": "extract", "requestedAt": "1970-01-01T00:00:00.000Z", … }] }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatPath } from '../definition/issues';
import { EXECUTION_OUTCOMES, type ExecutionRecord } from '../execution/record';
import { RecordsFileError, type RecordsFileIssue } from './errors';
import type { NodeSample, ReportNode } from './types';

/** The `format` tag of the file. */
export const RECORDS_FILE_FORMAT = 'quartermaster-execution-records';
/** The version this code writes and reads. */
export const RECORDS_FILE_VERSION = 1;

/** The file's content, parsed. */
export interface RecordsFile {
  /** A title for the report. */
  readonly title: string;
  /** Whether the times are a simulation's clock. */
  readonly simulated: boolean;
  /** Known nodes. */
  readonly nodes: readonly ReportNode[];
  /** Usage and forecast samples. */
  readonly samples: readonly NodeSample[];
  /** The executions. */
  readonly records: readonly ExecutionRecord[];
}

const quantity = z.number().min(0);
const vector = z.record(z.string(), quantity);
const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const nullableDate = date.nullable();
const text = z.string().min(1);

const recordSchema = z.strictObject({
  workflowId: text,
  runId: z.string().nullable(),
  definitionName: text,
  definitionVersion: z.number().int().nullable(),
  stageId: text,
  shardIndex: z.number().int().min(0).nullable(),
  handler: z.string(),
  attempt: z.number().int().min(1),
  priority: z.number().int().min(1).max(10),
  importance: z.number(),
  desired: vector,
  minimum: vector,
  granted: vector.nullable(),
  reduced: z.boolean(),
  shrinks: z.number().int().min(0),
  nodeId: z.string().nullable(),
  expectedSeconds: z.number().min(0).nullable(),
  // Absent in files written before predictions were recorded: read as null.
  predictedSeconds: z.number().min(0).nullable().default(null),
  predictedSource: z.enum(['declared', 'learned']).nullable().default(null),
  requestedAt: date,
  grantedAt: nullableDate,
  startedAt: nullableDate,
  endedAt: date,
  estimatedStartAt: nullableDate,
  outcome: z.enum(EXECUTION_OUTCOMES as [string, ...string[]]),
});

const fileSchema = z.strictObject({
  format: z.literal(RECORDS_FILE_FORMAT),
  version: z.literal(RECORDS_FILE_VERSION),
  title: z.string().default('Quartermaster executions'),
  simulated: z.boolean().default(false),
  nodes: z.array(z.strictObject({ id: text, capacity: vector })).default([]),
  samples: z
    .array(
      z.strictObject({
        nodeId: text,
        at: date,
        resource: text,
        used: z.number().nullable(),
        forecast: z.number().nullable(),
      }),
    )
    .default([]),
  records: z.array(recordSchema),
});

/**
 * The file's JSON text for `content` (pretty-printed, dates as ISO strings, ending in a newline).
 * Never throws.
 */
export function serializeRecordsFile(content: RecordsFile): string {
  return `${JSON.stringify({ format: RECORDS_FILE_FORMAT, version: RECORDS_FILE_VERSION, ...content }, null, 1)}\n`;
}

/**
 * Validates parsed JSON into a {@link RecordsFile}.
 * @param file - named in the error
 * @throws RecordsFileError listing every issue with its JSON path.
 */
export function parseRecordsFile(raw: unknown, file = '(input)'): RecordsFile {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues: RecordsFileIssue[] = parsed.error.issues.map((i) => ({
      path: formatPath(i.path.map((s) => (typeof s === 'symbol' ? String(s) : s))) || '$',
      message: i.message,
    }));
    throw new RecordsFileError(file, issues);
  }
  const { title, simulated, nodes, samples } = parsed.data;
  // zod's enum type is `string`: narrow the outcome to the union it was checked against.
  const records = parsed.data.records.map((r) => ({
    ...r,
    outcome: r.outcome as ExecutionRecord['outcome'],
  }));
  return { title, simulated, nodes, samples, records };
}

/**
 * Reads and validates a records file.
 * @throws RecordsFileError when it cannot be read, is not JSON, or does not match the format.
 */
export function readRecordsFile(file: string): RecordsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RecordsFileError(file, [{ path: '$', message: (err as Error).message }]);
  }
  return parseRecordsFile(raw, file);
}
