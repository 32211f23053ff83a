/**
 * What the execution report draws: one or more sections (a ledger's recent executions, or one simulated
 * policy each), every section a list of {@link ExecutionRecord}s plus what is known about its nodes.
 */
import type { ExecutionRecord } from '../execution/record';
import type { ResourceVector } from '../ledger/types';

/** A node as the report knows it: its id and host capacity (drawn as the ceiling of its capacity chart). */
export interface ReportNode {
  /** Node id, as in {@link ExecutionRecord.nodeId}. */
  readonly id: string;
  /** Host capacity per resource (cores for `cpu`, MiB for `memoryMb`, …). */
  readonly capacity: Readonly<ResourceVector>;
}

/**
 * One measurement of a node resource: what was in use and what the forecaster predicted for that moment.
 * Optional input: without samples the capacity charts show granted only and say "no samples".
 */
export interface NodeSample {
  /** Node id. */
  readonly nodeId: string;
  /** When it was measured (or, for a forecast, the moment it predicts). */
  readonly at: Date;
  /** Resource name (`cpu`, `memoryMb`, …). */
  readonly resource: string;
  /** Measured usage in the resource's unit, `null` when not measured. */
  readonly used: number | null;
  /** Forecast usage for `at` in the resource's unit, `null` when none was made. */
  readonly forecast: number | null;
}

/** A plain table printed above the sections (e.g. the simulator's metrics, one column per policy). */
export interface ReportTable {
  /** Caption shown above it. */
  readonly caption: string;
  /** Column headings (the first is the row-label column). */
  readonly header: readonly string[];
  /** Rows of cells, each as long as `header`. */
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** One section of the report: a set of executions drawn with all four chart groups. */
export interface ReportSection {
  /** Heading (a policy name, or "Ledger"). */
  readonly title: string;
  /** The executions, in any order. */
  readonly records: readonly ExecutionRecord[];
  /** Known nodes, in display order; nodes seen only in `records` follow, sorted. @default [] */
  readonly nodes?: readonly ReportNode[];
  /** Usage and forecast samples for the capacity charts. @default [] (the charts say "no samples") */
  readonly samples?: readonly NodeSample[];
  /** A sentence printed under the heading. */
  readonly note?: string;
}

/** Everything {@link renderExecutionReport} needs. */
export interface ReportInput {
  /** Page title and heading. */
  readonly title: string;
  /** A line under the heading (what was selected, from where). */
  readonly subtitle?: string;
  /** Sections, drawn in order on one shared time axis. */
  readonly sections: readonly ReportSection[];
  /** Tables printed before the sections. @default [] */
  readonly tables?: readonly ReportTable[];
  /**
   * Whether the times are a simulation's virtual clock: the page then labels times as seconds since the
   * first request instead of wall-clock times. @default false
   */
  readonly simulated?: boolean;
  /** When the report was produced (printed in the footer). @default not printed */
  readonly generatedAt?: Date;
}
