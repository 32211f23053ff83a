/**
 * The contract between the report's builder (Node) and its page script ({@link bootReport}): each chart
 * is an ECharts option (plain JSON) plus what JSON cannot carry, named here and supplied by the page.
 */
import type { EChartsOption } from 'echarts';

/** Bit flags of a Gantt bar (the 4th value of each data item). */
export const GANTT_REDUCED = 1;
/** Bit flag: the bar is one shard of a stage. */
export const GANTT_SHARD = 2;

/** One chart on the page. */
export interface ChartSpec {
  /** The element id of its container (unique on the page). */
  readonly id: string;
  /** Container height, pixels. */
  readonly height: number;
  /** The ECharts option (JSON only: no functions). */
  readonly option: EChartsOption;
  /**
   * Tooltip text per series and data item (`tips[seriesIndex][dataIndex]`), shown for item tooltips;
   * absent: ECharts' default tooltip.
   */
  readonly tips?: ReadonlyArray<readonly string[]>;
  /**
   * Whether its custom series are Gantt bars: data `[start, end, lane, flags]`, drawn by the page's
   * `renderItem` ({@link GANTT_REDUCED} → dark border, paler; {@link GANTT_SHARD} → dashed border).
   */
  readonly gantt?: boolean;
  /** Whether the x axis is seconds since the origin, labelled as elapsed time (`90` → `1m30s`). */
  readonly elapsedX?: boolean;
}

/** What the page script receives. */
export interface ReportPageData {
  /** Every chart. */
  readonly charts: readonly ChartSpec[];
}
