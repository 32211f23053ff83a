/**
 * The execution report: a self-contained HTML page (no network needed to open it) drawn with Apache
 * ECharts, which is read from the installed `echarts` package and inlined into the page.
 */
import { readFileSync } from 'node:fs';
import { estimateAccuracy } from './accuracy';
import { accuracyChart } from './accuracy-chart';
import { capacityCharts } from './capacity-charts';
import type { ChartSpec, ReportPageData } from './chart-spec';
import { bootReport } from './client';
import { escapeHtml, formatInstant } from './format';
import { ganttCharts, type ChartContext } from './gantt-chart';
import { BAND_COLOURS, BAND_LABELS } from './palette';
import { BANDS } from './queue-series';
import { queueCharts } from './queue-charts';
import { accuracyHtml, htmlTable, summaryHtml } from './section-tables';
import { reportOrigin, secondsSince } from './time-base';
import type { ReportInput, ReportSection } from './types';

let echartsSource: string | undefined;

/**
 * The minified ECharts bundle, read once from the installed package.
 * @throws Error (ENOENT / MODULE_NOT_FOUND) when `echarts` is not installed.
 */
export function echartsBundle(): string {
  echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  return echartsSource;
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin:1.2em 0 .3em}
.sub{color:#555;margin-top:0}.chart{width:100%;margin:.4em 0 1em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px}
table.numbers td,table.numbers th{text-align:right}table.numbers td:first-child,table.numbers th:first-child{text-align:left}
.legend span{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin:0 .25em 0 .8em}
.legend .reduced{background:#bbb;opacity:.55;outline:1.4px solid #111}.legend .shard{background:#bbb;outline:1.4px dashed #111}
footer{color:#777;font-size:.85em;margin-top:2em}`;

function chartDiv(spec: ChartSpec): string {
  return `<div class="chart" id="${escapeHtml(spec.id)}" style="height:${Math.round(spec.height)}px"></div>`;
}

function legendHtml(): string {
  const bands = BANDS.map(
    (b) => `<span style="background:${BAND_COLOURS[b]}"></span>${escapeHtml(BAND_LABELS[b])}`,
  );
  return (
    `<p class="legend">Bars: one per execution (stage attempt or shard), coloured by priority band:${bands.join('')}` +
    '<span class="reduced"></span>reduced or shrunk grant<span class="shard"></span>shard. ' +
    'Hover for details; scroll on a chart to zoom in time.</p>'
  );
}

function sectionHtml(
  section: ReportSection,
  index: number,
  base: Omit<ChartContext, 'idPrefix'>,
  charts: ChartSpec[],
): string {
  const ctx: ChartContext = { ...base, idPrefix: `s${index}` };
  const nodes = section.nodes ?? [];
  const gantt = ganttCharts(
    section.records,
    nodes.map((n) => n.id),
    ctx,
  );
  const queue = queueCharts(section.records, ctx);
  const capacity = capacityCharts(section.records, nodes, section.samples ?? [], ctx);
  const rows = estimateAccuracy(section.records);
  const accuracy = accuracyChart(rows, ctx.idPrefix);
  charts.push(...gantt, ...queue, ...capacity, ...(accuracy === null ? [] : [accuracy]));
  const parts = [
    `<section><h2>${escapeHtml(section.title)}</h2>`,
    section.note === undefined ? '' : `<p class="sub">${escapeHtml(section.note)}</p>`,
    summaryHtml(section.records, base.origin),
    '<h3>What ran where</h3>',
    legendHtml(),
    ...gantt.map(chartDiv),
    '<h3>Queue and waits by priority band</h3>',
    ...queue.map(chartDiv),
    '<h3>Capacity per node: granted vs used vs forecast</h3>',
    capacity.length === 0 ? '<p>No grants on any node.</p>' : capacity.map(chartDiv).join('\n'),
    '<h3>Estimate accuracy</h3>',
    "<p>Start-estimate error = actual start − the scheduler's last estimate while it waited; run-time error = " +
      'actual run time − declared <code>expectedSeconds</code> (completed executions only). Positive: later or longer than estimated.</p>',
    accuracy === null
      ? '<p>No estimates recorded: no execution waited with an estimate or declared a run time.</p>'
      : chartDiv(accuracy),
    rows.length === 0 ? '' : accuracyHtml(rows),
    '</section>',
  ];
  return parts.filter((p) => p !== '').join('\n');
}

/**
 * Renders the report of `input` as one HTML document: the tables, then per section a summary, a Gantt
 * chart per node, the queue and waits by band, granted vs used vs forecast per node and the estimate
 * accuracy. Every section shares one time axis (seconds since the earliest request of all sections), so a
 * comparison of policies lines up. The ECharts bundle (~1 MB) and the data are inlined: the file opens
 * offline.
 * @returns the complete document.
 * @throws Error only when the `echarts` package cannot be read (not installed).
 */
export function renderExecutionReport(input: ReportInput): string {
  const all = input.sections.flatMap((s) => s.records);
  const origin = reportOrigin(all);
  const simulated = input.simulated ?? false;
  const charts: ChartSpec[] = [];
  let body: string;
  if (origin === null) {
    body = '<p>No executions in this selection.</p>';
  } else {
    let end = 1;
    for (const s of input.sections) {
      for (const r of s.records) end = Math.max(end, secondsSince(origin, r.endedAt));
      for (const x of s.samples ?? []) end = Math.max(end, secondsSince(origin, x.at));
    }
    const base = { origin, end, simulated };
    const clock = simulated
      ? 'Times are the simulation clock, seconds since the first request.'
      : `Times are since the first request, ${formatInstant(origin, origin, false).replace(/ \(.*$/, '')}.`;
    body = [
      `<p class="sub">${escapeHtml(clock)}</p>`,
      ...input.sections.map((s, i) => sectionHtml(s, i, base, charts)),
    ].join('\n');
  }
  const tables = (input.tables ?? [])
    .map((t) => `<h2>${escapeHtml(t.caption)}</h2>\n${htmlTable(t.header, t.rows)}`)
    .join('\n');
  const data: ReportPageData = { charts };
  // Inside <script type="application/json"> only "</script" could end the element early: escape every "<".
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(input.title)}</h1>
${input.subtitle === undefined ? '' : `<p class="sub">${escapeHtml(input.subtitle)}</p>`}
<noscript><p>The charts need JavaScript (bundled in this file; nothing is fetched).</p></noscript>
${tables}
${body}
<footer>Quartermaster execution report${input.generatedAt === undefined ? '' : `, generated ${escapeHtml(input.generatedAt.toISOString())}`}. Charts: Apache ECharts (Apache-2.0), bundled.</footer>
<script type="application/json" id="qm-report-data">${json}</script>
<script>${echartsBundle()}</script>
<script>(${bootReport.toString()})(echarts, document, window, JSON.parse(document.getElementById('qm-report-data').textContent));</script>
</body></html>
`;
}
