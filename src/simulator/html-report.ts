/**
 * The simulator's HTML report: the metrics of every policy side by side, then one section per policy drawn
 * by the execution report's renderer (`src/report`), so a what-if run looks like a real one.
 */
import { renderExecutionReport } from '../report/render';
import type { ReportInput, ReportTable } from '../report/types';
import { computeMetrics, type SimulationMetrics } from './metrics';
import { simulationSection } from './records';
import type { SimulationTrace } from './trace';

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

const ROWS: ReadonlyArray<readonly [string, (m: SimulationMetrics) => string]> = [
  ['makespan (s)', (m) => fmt(m.makespanSeconds)],
  ['cpu utilisation while backlogged', (m) => fmt(m.utilization.cpu ?? 0)],
  ['wait p95 high (8–10) (s)', (m) => fmt(m.waitSeconds.byBand.high.p95)],
  ['wait p95 mid (4–7) (s)', (m) => fmt(m.waitSeconds.byBand.mid.p95)],
  ['wait max low (1–3) (s)', (m) => fmt(m.waitSeconds.byBand.low.max)],
  ['priority-weighted completion (s)', (m) => fmt(m.weightedCompletionSeconds)],
  ['start-estimate mean |error| (s)', (m) => fmt(m.waitEstimate.meanAbsErrorSeconds)],
  ['reduced grants / shards / shrinks', (m) => `${m.reducedGrants} / ${m.shards} / ${m.degradations}`],
  ['overcommit events', (m) => String(m.overcommitEvents)],
];

/** The side-by-side metrics table of `traces` (one column per policy). */
export function comparisonTable(traces: readonly SimulationTrace[]): ReportTable {
  const metrics = traces.map(computeMetrics);
  return {
    caption: 'Policies side by side',
    header: ['', ...metrics.map((m) => m.policy)],
    rows: ROWS.map(([label, f]) => [label, ...metrics.map(f)]),
  };
}

/**
 * The report input of `traces` (one per policy, same workload): the comparison table and a section per
 * policy, on the simulation clock.
 * @param title - the page title; @default 'Quartermaster simulation'
 */
export function simulationReportInput(
  traces: readonly SimulationTrace[],
  title = 'Quartermaster simulation',
): ReportInput {
  return {
    title,
    simulated: true,
    tables: traces.length > 1 ? [comparisonTable(traces)] : [],
    sections: traces.map((t) => simulationSection(t)),
  };
}

/**
 * Renders the report for `traces` (one per policy, same workload) as a self-contained HTML page.
 * @param title - the page title; @default 'Quartermaster simulation'
 * @returns a complete HTML document.
 * @throws Error only when the `echarts` package is not installed.
 */
export function renderHtmlReport(
  traces: readonly SimulationTrace[],
  title = 'Quartermaster simulation',
): string {
  return renderExecutionReport(simulationReportInput(traces, title));
}
