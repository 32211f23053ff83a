/** The Gantt chart of each node: what ran there when, one lane per concurrent execution. */
import type { CustomSeriesOption } from 'echarts';
import type { ExecutionRecord } from '../execution/record';
import { bandOf } from '../simulator/metrics';
import { GANTT_REDUCED, GANTT_SHARD, type ChartSpec } from './chart-spec';
import { recordTooltip } from './format';
import { assignLanes } from './lanes';
import { BAND_COLOURS, BAND_LABELS, timeAxis } from './palette';
import { BANDS } from './queue-series';

/** Where the charts of one section are drawn and how its times read. */
export interface ChartContext {
  /** Prefix of the chart container ids (unique per section). */
  readonly idPrefix: string;
  /** The time that is 0 on every x axis. */
  readonly origin: Date;
  /** The end of every x axis, seconds since the origin. */
  readonly end: number;
  /** Whether times are a simulation's clock. */
  readonly simulated: boolean;
}

/** The bar flags of a record: reduced (a grant below desired, or shrunk) and shard. */
export function ganttFlags(r: ExecutionRecord): number {
  return (r.reduced || r.shrinks > 0 ? GANTT_REDUCED : 0) | (r.shardIndex !== null ? GANTT_SHARD : 0);
}

/**
 * One Gantt chart per node (see {@link assignLanes}): a custom series per priority band, bars
 * `[start, end, lane, flags]`, each with its tooltip.
 * @returns the chart specs, in node order. Never throws.
 */
export function ganttCharts(
  records: readonly ExecutionRecord[],
  nodeOrder: readonly string[],
  ctx: ChartContext,
): ChartSpec[] {
  return assignLanes(records, ctx.origin, nodeOrder).map((node, i) => {
    const laneHeight = node.laneCount > 40 ? 5 : node.laneCount > 16 ? 9 : 16;
    const tips: string[][] = [];
    const series: CustomSeriesOption[] = BANDS.map((band) => {
      const bars = node.bars.filter((b) => bandOf(b.record.priority) === band);
      tips.push(bars.map((b) => recordTooltip(b.record, ctx.origin, ctx.simulated)));
      return {
        type: 'custom',
        name: BAND_LABELS[band],
        itemStyle: { color: BAND_COLOURS[band] },
        encode: { x: [0, 1], y: 2 },
        clip: true,
        data: bars.map((b) => [b.start, b.end, b.lane, ganttFlags(b.record)]),
      };
    });
    return {
      id: `${ctx.idPrefix}-gantt-${i}`,
      height: 92 + node.laneCount * laneHeight,
      gantt: true,
      elapsedX: true,
      tips,
      option: {
        animation: false,
        title: {
          text: `node ${node.nodeId ?? '(none: stages without resources)'}`,
          subtext: `${node.bars.length} execution(s), up to ${node.bars.length === 0 ? 0 : node.laneCount} at once`,
          left: 0,
          textStyle: { fontSize: 13 },
          subtextStyle: { fontSize: 11 },
        },
        legend: { right: 0, top: 0 },
        grid: { left: 56, right: 24, top: 48, bottom: 40 },
        tooltip: {},
        xAxis: timeAxis(ctx.end),
        yAxis: {
          type: 'category',
          inverse: true,
          data: Array.from({ length: node.laneCount }, (_, k) => String(k + 1)),
          axisLabel: { show: node.laneCount <= 16 },
          axisTick: { show: false },
        },
        dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter' }],
        series,
      },
    };
  });
}
