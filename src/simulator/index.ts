/**
 * The simulator: the production scheduling core on a virtual clock, for what-if runs and schedule-quality
 * benchmarks against strict FIFO, first fit, EASY backfilling and strict priority.
 *
 * @example
 * import { loadWorkloadFile, simulate, computeMetrics, renderHtmlReport } from './simulator';
 * const workload = loadWorkloadFile('test/fixtures/workloads/order.json');
 * const traces = ['quartermaster', 'fifo', 'priority'].map((policy) => simulate(workload, { policy }));
 * traces.map(computeMetrics); // [{ policy: 'quartermaster', makespanSeconds: 30, waitSeconds: … }, …]
 * writeFileSync('report.html', renderHtmlReport(traces));
 */
export { simulate, type SimulateOptions } from './simulate';
export { LearnedHistory, RUN_TIME_MODES, isRunTimeMode, stageKey, type RunTimeMode } from './learned-history';
export { simulateLearned, type LearnedSimulation } from './learned-run';
export {
  computeMetrics,
  SLOWDOWN_THRESHOLD_SECONDS,
  bandOf,
  waitStats,
  percentileSorted,
  type SimulationMetrics,
  type WaitStats,
  type Band,
  type EstimateErrorStats,
} from './metrics';
export {
  parseWorkload,
  loadWorkloadFile,
  type Workload,
  type WorkloadNode,
  type WorkloadSubmission,
  type WorkloadBoost,
  type BackgroundSeries,
} from './workload';
export { WORKLOAD_SCHEMA_ID, workloadJsonSchema } from './json-schema';
export {
  POLICY_NAMES,
  isPolicyName,
  policyByName,
  requestForPolicy,
  type Policy,
  type PolicyName,
} from './policies';
export { renderHtmlReport, simulationReportInput, comparisonTable } from './html-report';
export {
  toExecutionRecords,
  runToExecutionRecord,
  simulationSection,
  SIMULATION_EPOCH,
  type SimulationRecords,
} from './records';
export { jobsCsv, JOB_CSV_COLUMNS } from './jobs-csv';
export { generateWorkload, type GenerateOptions } from './generate';
export { BackgroundMonitor, seriesValueAt } from './background';
export { EventQueue } from './event-queue';
export type {
  SimulationTrace,
  StageRecord,
  RunRecord,
  NodeSamplePoint,
  PipelineRecord,
  UtilizationPoint,
  SimulationCounters,
} from './trace';
export {
  InvalidWorkloadError,
  WorkloadReadError,
  UnknownPolicyError,
  InvalidSimulationOptionError,
  type WorkloadIssue,
} from './errors';
export { simulateSubmissions } from './simulate';
export {
  readSwfText,
  parseSwf,
  parseSwfHeader,
  parsePriorityMap,
  parseClusterSpec,
  defaultSwfPriority,
  swfSubmissions,
  replaySwf,
  type SwfJob,
  type SwfProblem,
  type SwfHeader,
  type PriorityRule,
  type SwfReplayOptions,
  type SwfReplayStats,
  type SwfRunOptions,
  type SwfRunResult,
  type SwfEstimates,
} from './swf';
