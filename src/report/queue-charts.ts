/** The queue charts: how many executions waited per priority band over time, and how long each waited. */
import type { LineSeriesOption, ScatterSeriesOption } from 'echarts';
import type { ExecutionRecord } from '../execution/record';
import type { ChartSpec } from './chart-spec';
import { formatSeconds, recordTooltip } from './format';
import type { ChartContext } from './gantt-chart';
import { BAND_COLOURS, BAND_LABELS, timeAxis } from './palette';
import { BANDS, queueLengthSeries, waitPoints } from './queue-series';

/**
 * Two charts: the queue length per band (step lines) and every execution's wait, plotted when it stopped
 * waiting (a scatter per band, each point with its tooltip).
 * @returns the two specs. Never throws.
 */
export function queueCharts(records: readonly ExecutionRecord[], ctx: ChartContext): ChartSpec[] {
  const queue = queueLengthSeries(records, ctx.origin);
  const last = queue[queue.length - 1];
  const lines: LineSeriesOption[] = BANDS.map((band) => ({
    type: 'line',
    name: BAND_LABELS[band],
    step: 'end',
    showSymbol: false,
    color: BAND_COLOURS[band],
    lineStyle: { width: 1.5 },
    areaStyle: { opacity: 0.12 },
    data: [
      ...queue.map((p) => [p.t, p.waiting[band]]),
      ...(last === undefined ? [] : [[ctx.end, last.waiting[band]]]),
    ],
  }));
  const waits = waitPoints(records, ctx.origin);
  const tips: string[][] = [];
  const scatter: ScatterSeriesOption[] = BANDS.map((band) => {
    const mine = waits.filter((w) => w.band === band);
    tips.push(
      mine.map(
        (w) =>
          `waited <b>${formatSeconds(w.waitSeconds)}</b><br>${recordTooltip(w.record, ctx.origin, ctx.simulated)}`,
      ),
    );
    return {
      type: 'scatter',
      name: BAND_LABELS[band],
      color: BAND_COLOURS[band],
      symbolSize: 5,
      itemStyle: { opacity: 0.7 },
      data: mine.map((w) => [w.t, Number(w.waitSeconds.toFixed(3))]),
    };
  });
  const common = {
    animation: false,
    legend: { right: 0, top: 0 },
    grid: { left: 56, right: 24, top: 48, bottom: 40 },
    xAxis: timeAxis(ctx.end),
    dataZoom: [{ type: 'inside' as const, xAxisIndex: 0 }],
  };
  return [
    {
      id: `${ctx.idPrefix}-queue`,
      height: 260,
      elapsedX: true,
      option: {
        ...common,
        title: {
          text: 'queue length by priority band (executions waiting)',
          left: 0,
          textStyle: { fontSize: 13 },
        },
        tooltip: { trigger: 'axis' },
        yAxis: { type: 'value', minInterval: 1 },
        series: lines,
      },
    },
    {
      id: `${ctx.idPrefix}-waits`,
      height: 260,
      elapsedX: true,
      tips,
      option: {
        ...common,
        title: {
          text: 'waits by priority band, seconds (requested → started), at the time each stopped waiting',
          left: 0,
          textStyle: { fontSize: 13 },
        },
        tooltip: {},
        yAxis: { type: 'value' },
        series: scatter,
      },
    },
  ];
}
