/**
 * The execution report: a self-contained HTML page (Apache ECharts inlined; opens offline) of execution
 * records — a Gantt chart per node, the queue and waits by priority band, granted vs used vs forecast per
 * node, and the estimate accuracy per stage key. `qm report` draws the ledger's recent executions or a
 * records file; the simulator's `--html` report draws one section per policy with the same renderer.
 *
 * @example
 * import { renderExecutionReport } from './report';
 * const html = renderExecutionReport({
 *   title: 'Last hour',
 *   sections: [{ title: 'Ledger', records, nodes: [{ id: 'n1', capacity: { cpu: 16 } }] }],
 * });
 * writeFileSync('report.html', html);
 */
export { renderExecutionReport, echartsBundle } from './render';
export type { ReportInput, ReportSection, ReportNode, NodeSample, ReportTable } from './types';
export {
  readRecordsFile,
  parseRecordsFile,
  serializeRecordsFile,
  RECORDS_FILE_FORMAT,
  RECORDS_FILE_VERSION,
  type RecordsFile,
} from './records-file';
export { RecordsFileError, type RecordsFileIssue } from './errors';
export { assignLanes, type GanttBar, type NodeLanes } from './lanes';
export { queueLengthSeries, waitPoints, BANDS, type QueuePoint, type WaitPoint } from './queue-series';
export { grantedSeries, capacitySeries, type CapacitySeries, type SeriesPoint } from './capacity-series';
export {
  estimateAccuracy,
  errorStats,
  startError,
  runTimeError,
  type AccuracyRow,
  type ErrorStats,
} from './accuracy';
