/** The capacity charts: per node and host resource, granted (ledger) vs used and forecast (samples). */
import type { LineSeriesOption } from 'echarts';
import type { ExecutionRecord } from '../execution/record';
import { capacitySeries } from './capacity-series';
import type { ChartSpec } from './chart-spec';
import type { ChartContext } from './gantt-chart';
import { timeAxis } from './palette';
import type { NodeSample, ReportNode } from './types';

/** A round number ≥ `x` (1, 2, 2.5, 5 × a power of ten), so the axis ends on a label. */
export function niceCeiling(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x - 1e-12) return m * p;
  return 10 * p;
}

/**
 * One chart per node resource (see {@link capacitySeries}): granted as a step area with the node's
 * capacity as a line, used and forecast as lines when samples exist; without samples the chart says
 * "used / forecast: no samples".
 * @returns the specs, in node order. Never throws.
 */
export function capacityCharts(
  records: readonly ExecutionRecord[],
  nodes: readonly ReportNode[],
  samples: readonly NodeSample[],
  ctx: ChartContext,
): ChartSpec[] {
  return capacitySeries(records, ctx.origin, nodes, samples).map((c, i) => {
    const lastGranted = c.granted[c.granted.length - 1];
    const series: LineSeriesOption[] = [
      {
        type: 'line',
        name: 'granted',
        step: 'end',
        showSymbol: false,
        color: '#2ca02c',
        areaStyle: { opacity: 0.25 },
        lineStyle: { width: 1.5 },
        data: [
          ...c.granted.map((p) => [p.t, p.value]),
          ...(lastGranted === undefined ? [] : [[ctx.end, lastGranted.value]]),
        ],
        ...(c.capacity === null
          ? {}
          : {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { color: '#444', type: 'dashed' },
                label: { formatter: 'capacity {c}', position: 'insideEndTop' },
                data: [{ yAxis: c.capacity }],
              },
            }),
      },
    ];
    if (c.used.length > 0)
      series.push({
        type: 'line',
        name: 'used',
        showSymbol: false,
        color: '#9467bd',
        lineStyle: { width: 1.2 },
        data: c.used.map((p) => [p.t, p.value]),
      });
    if (c.forecast.length > 0)
      series.push({
        type: 'line',
        name: 'forecast',
        showSymbol: false,
        color: '#8c564b',
        lineStyle: { width: 1.2, type: 'dashed' },
        data: c.forecast.map((p) => [p.t, p.value]),
      });
    const noSamples = c.used.length === 0 && c.forecast.length === 0;
    return {
      id: `${ctx.idPrefix}-capacity-${i}`,
      height: 240,
      elapsedX: true,
      option: {
        animation: false,
        title: {
          text: `node ${c.nodeId}: ${c.resource}`,
          subtext: noSamples ? 'used / forecast: no samples' : `${c.used.length} usage sample(s)`,
          left: 0,
          textStyle: { fontSize: 13 },
          subtextStyle: { fontSize: 11 },
        },
        legend: { right: 0, top: 0 },
        grid: { left: 56, right: 24, top: 52, bottom: 40 },
        tooltip: { trigger: 'axis' },
        xAxis: timeAxis(ctx.end),
        yAxis: {
          type: 'value',
          min: 0,
          // Room for the capacity line, which ECharts does not count into the axis extent.
          max: niceCeiling(
            [c.granted, c.used, c.forecast].reduce(
              (m, list) => list.reduce((n, p) => Math.max(n, p.value), m),
              c.capacity ?? 0,
            ) * 1.05,
          ),
        },
        dataZoom: [{ type: 'inside', xAxisIndex: 0 }],
        series,
      },
    };
  });
}
