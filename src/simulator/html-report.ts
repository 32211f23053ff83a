/**
 * A self-contained HTML report of one or more simulations of the same workload: the metrics side by side,
 * a Gantt chart per policy (one band of lanes per node, bars coloured by priority band) and CPU
 * utilisation over time. Plain inline SVG; no scripts, no external assets.
 */
import { bandOf, computeMetrics, type Band } from './metrics';
import type { ExecutionRecord, SimulationTrace } from './trace';

const COLOURS: Record<Band, string> = { high: '#d62728', mid: '#ff9f1c', low: '#1f77b4' };
const POLICY_COLOURS = ['#2ca02c', '#9467bd', '#8c564b', '#e377c2'];
const WIDTH = 1000;
const LEFT = 70;
const LANE = 6;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function axis(end: number, y: number): string {
  const ticks: string[] = [];
  const step = niceStep(end / 8);
  for (let t = 0; t <= end + 1e-9; t += step) {
    const x = LEFT + (t / end) * (WIDTH - LEFT - 10);
    ticks.push(
      `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}" stroke="#555"/>` +
        `<text x="${x}" y="${y + 15}" font-size="10" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  return `<line x1="${LEFT}" y1="${y}" x2="${WIDTH - 10}" y2="${y}" stroke="#555"/>${ticks.join('')}`;
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function lanes(
  executions: readonly ExecutionRecord[],
  end: number,
): Array<{ e: ExecutionRecord; lane: number }> {
  const laneEnds: number[] = [];
  return [...executions]
    .sort((a, b) => a.startedAt - b.startedAt || (a.key < b.key ? -1 : 1))
    .map((e) => {
      let lane = laneEnds.findIndex((x) => x <= e.startedAt + 1e-9);
      if (lane < 0) {
        lane = laneEnds.length;
        laneEnds.push(0);
      }
      laneEnds[lane] = e.completedAt ?? end;
      return { e, lane };
    });
}

function gantt(trace: SimulationTrace, end: number): string {
  const scale = (t: number): number => LEFT + (t / end) * (WIDTH - LEFT - 10);
  const parts: string[] = [];
  let y = 10;
  const nodeIds = [...trace.nodeIds, ...(trace.executions.some((e) => e.nodeId === null) ? [null] : [])];
  for (const nodeId of nodeIds) {
    const placed = lanes(
      trace.executions.filter((e) => e.nodeId === nodeId),
      end,
    );
    const laneCount = Math.max(1, ...placed.map((p) => p.lane + 1));
    const h = laneCount * LANE + 4;
    parts.push(
      `<text x="4" y="${y + h / 2 + 4}" font-size="11">${esc(nodeId ?? '(no node)')}</text>` +
        `<rect x="${LEFT}" y="${y}" width="${WIDTH - LEFT - 10}" height="${h}" fill="#f4f4f4"/>`,
    );
    for (const { e, lane } of placed) {
      const x1 = scale(e.startedAt);
      const x2 = scale(e.completedAt ?? end);
      const title = `${e.key} p${e.priority} cpu ${fmt(e.cpu)}${e.reduced ? ' (reduced)' : ''} ${fmt(e.startedAt)}–${fmt(e.completedAt ?? end)} s${e.shrinks.length > 0 ? `, shrunk at ${e.shrinks.map((s) => fmt(s.at)).join(', ')}` : ''}`;
      parts.push(
        `<rect x="${x1.toFixed(1)}" y="${y + 2 + lane * LANE}" width="${Math.max(0.5, x2 - x1).toFixed(1)}" height="${LANE - 1}" fill="${COLOURS[bandOf(e.priority)]}"${e.reduced || e.shrinks.length > 0 ? ' fill-opacity="0.55"' : ''}><title>${esc(title)}</title></rect>`,
      );
    }
    y += h + 4;
  }
  parts.push(axis(end, y + 2));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 24}" role="img">${parts.join('')}</svg>`;
}

function utilisationChart(traces: readonly SimulationTrace[], end: number, resource: string): string {
  const H = 160;
  const scaleX = (t: number): number => LEFT + (t / end) * (WIDTH - LEFT - 10);
  const scaleY = (u: number): number => 10 + (1 - Math.min(1, u)) * H;
  const parts: string[] = [
    `<text x="4" y="${scaleY(1) + 4}" font-size="10">100 %</text><text x="4" y="${scaleY(0) + 4}" font-size="10">0 %</text>`,
    `<line x1="${LEFT}" y1="${scaleY(1)}" x2="${WIDTH - 10}" y2="${scaleY(1)}" stroke="#ddd"/>`,
  ];
  traces.forEach((trace, i) => {
    const cap = trace.capacity[resource] ?? 0;
    if (cap <= 0) return;
    const pts: string[] = [];
    let prev = 0;
    for (const p of trace.utilization) {
      const u = (p.granted[resource] ?? 0) / cap;
      pts.push(
        `${scaleX(p.t).toFixed(1)},${scaleY(prev).toFixed(1)}`,
        `${scaleX(p.t).toFixed(1)},${scaleY(u).toFixed(1)}`,
      );
      prev = u;
    }
    pts.push(`${scaleX(end).toFixed(1)},${scaleY(prev).toFixed(1)}`);
    const colour = POLICY_COLOURS[i % POLICY_COLOURS.length] as string;
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="1.3" points="${pts.join(' ')}"/>` +
        `<text x="${LEFT + 10 + i * 140}" y="${H + 50}" font-size="11" fill="${colour}">■ ${esc(trace.policy)}</text>`,
    );
  });
  parts.push(axis(end, H + 12));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${H + 60}" role="img">${parts.join('')}</svg>`;
}

/**
 * Renders the report for `traces` (one per policy, same workload).
 * @param title - the page title; @default 'Quartermaster simulation'
 * @returns a complete HTML document. Never throws.
 */
export function renderHtmlReport(
  traces: readonly SimulationTrace[],
  title = 'Quartermaster simulation',
): string {
  const end = Math.max(1, ...traces.map((t) => t.endedAt));
  const metrics = traces.map(computeMetrics);
  const rows: Array<[string, (m: (typeof metrics)[number]) => string]> = [
    ['makespan (s)', (m) => fmt(m.makespanSeconds)],
    ['cpu utilisation while backlogged', (m) => fmt(m.utilization.cpu ?? 0)],
    ['wait p95 high (8–10) (s)', (m) => fmt(m.waitSeconds.byBand.high.p95)],
    ['wait p95 mid (4–7) (s)', (m) => fmt(m.waitSeconds.byBand.mid.p95)],
    ['wait max low (1–3) (s)', (m) => fmt(m.waitSeconds.byBand.low.max)],
    ['priority-weighted completion (s)', (m) => fmt(m.weightedCompletionSeconds)],
    ['reduced grants / shards / shrinks', (m) => `${m.reducedGrants} / ${m.shards} / ${m.degradations}`],
    ['overcommit events', (m) => String(m.overcommitEvents)],
  ];
  const table =
    `<table><tr><th></th>${metrics.map((m) => `<th>${esc(m.policy)}</th>`).join('')}</tr>` +
    rows
      .map(
        ([label, f]) =>
          `<tr><td>${esc(label)}</td>${metrics.map((m) => `<td>${esc(f(m))}</td>`).join('')}</tr>`,
      )
      .join('') +
    '</table>';
  const legend = (Object.keys(COLOURS) as Band[])
    .map(
      (b) =>
        `<span style="color:${COLOURS[b]}">■</span> ${b === 'high' ? '8–10' : b === 'mid' ? '4–7' : '1–3'}`,
    )
    .join(' &nbsp; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style>
</head><body>
<h1>${esc(title)}</h1>
${table}
<h2>CPU granted ÷ capacity over time (seconds)</h2>
${utilisationChart(traces, end, 'cpu')}
<h2>Gantt charts</h2>
<p>One band per node, one lane per concurrent run; colour = priority band (${legend}); pale = reduced or shrunk allocation. Hover a bar for details.</p>
${traces.map((t) => `<h3>${esc(t.policy)}</h3>\n${gantt(t, end)}`).join('\n')}
</body></html>
`;
}
