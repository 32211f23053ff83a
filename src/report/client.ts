/**
 * The page script of the report. It runs in the browser, not in Node: {@link renderExecutionReport}
 * embeds `bootReport.toString()` into the page and calls it with the bundled ECharts and the chart specs.
 * So it must stay self-contained: no imports used at run time, no module-level helpers, nothing that the
 * compiler would rewrite into a helper call (plain ES2022 only).
 */
import type { EChartsOption } from 'echarts';
import type { ChartSpec, ReportPageData } from './chart-spec';

/** The parts of a DOM element the script uses (the project compiles without DOM types). */
export interface PageElement {
  readonly clientWidth: number;
}

/** The parts of `document` the script uses. */
export interface PageDocument {
  getElementById(id: string): PageElement | null;
}

/** The parts of `window` the script uses. */
export interface PageWindow {
  addEventListener(type: 'resize', listener: () => void): void;
}

/** The arguments ECharts passes to a custom series' `renderItem`. */
export interface RenderItemParams {
  readonly coordSys: {
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
  };
}

/** The `api` ECharts passes to a custom series' `renderItem`. */
export interface RenderItemApi {
  value(dimension: number): number;
  coord(point: [number, number]): [number, number];
  size(delta: [number, number]): [number, number];
  visual(name: 'color'): string;
}

/** A rectangle. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One chart instance, as far as the script uses it. */
export interface ChartInstance {
  setOption(option: EChartsOption): void;
  resize(): void;
}

/** The parts of the ECharts global the script uses. */
export interface EChartsGlobal {
  init(el: PageElement, theme: null, opts: { renderer: 'svg' | 'canvas' }): ChartInstance;
  graphic: { clipRectByRect(rect: Rect, clip: Rect): Rect | undefined };
}

/** What an item tooltip's formatter receives. */
export interface TooltipParams {
  readonly seriesIndex?: number;
  readonly dataIndex?: number;
}

/**
 * Draws every chart of `data` into its container (SVG renderer), wiring what JSON cannot carry: the
 * Gantt bars' `renderItem`, item tooltips from `tips`, elapsed-time axis labels (`90` → `1m30s`).
 * Charts whose container is missing are skipped. Throws only what ECharts throws.
 */
export function bootReport(
  echarts: EChartsGlobal,
  doc: PageDocument,
  win: PageWindow,
  data: ReportPageData,
): void {
  const elapsed = (value: number): string => {
    const s = Math.round(value);
    if (s === 0) return '0';
    const sign = s < 0 ? '−' : '';
    const a = Math.abs(s);
    const h = Math.floor(a / 3600);
    const m = Math.floor((a % 3600) / 60);
    const sec = a % 60;
    if (h > 0) return `${sign}${h}h${m > 0 ? `${String(m).padStart(2, '0')}m` : ''}`;
    if (m > 0) return `${sign}${m}m${sec > 0 ? `${String(sec).padStart(2, '0')}s` : ''}`;
    return `${sign}${sec}s`;
  };
  const renderGantt = (params: RenderItemParams, api: RenderItemApi): object | null => {
    const a = api.coord([api.value(0), api.value(2)]);
    const b = api.coord([api.value(1), api.value(2)]);
    const flags = api.value(3);
    const h = Math.max(2, api.size([0, 1])[1] * 0.72);
    const shape = echarts.graphic.clipRectByRect(
      { x: a[0], y: a[1] - h / 2, width: Math.max(1, b[0] - a[0]), height: h },
      params.coordSys,
    );
    if (shape === undefined) return null;
    const reduced = (flags & 1) !== 0;
    const shard = (flags & 2) !== 0;
    return {
      type: 'rect',
      shape,
      style: {
        fill: api.visual('color'),
        opacity: reduced ? 0.55 : 0.95,
        stroke: reduced || shard ? '#111' : 'rgba(0,0,0,0.25)',
        lineWidth: reduced || shard ? 1.4 : 0.5,
        lineDash: shard ? [3, 2] : null,
      },
    };
  };
  const charts: ChartInstance[] = [];
  data.charts.forEach((spec: ChartSpec) => {
    const el = doc.getElementById(spec.id);
    if (el === null) return;
    const chart = echarts.init(el, null, { renderer: 'svg' });
    const option = spec.option as Record<string, unknown>;
    const tips = spec.tips;
    if (tips !== undefined) {
      option.tooltip = {
        ...((option.tooltip as object | undefined) ?? {}),
        trigger: 'item',
        formatter: (p: TooltipParams) => tips[p.seriesIndex ?? 0]?.[p.dataIndex ?? 0] ?? '',
      };
    }
    if (spec.elapsedX === true) {
      const axes = option.xAxis;
      const list = (Array.isArray(axes) ? axes : axes === undefined ? [] : [axes]) as Array<
        Record<string, unknown>
      >;
      for (const axis of list) {
        axis.axisLabel = { ...((axis.axisLabel as object | undefined) ?? {}), formatter: elapsed };
      }
    }
    if (spec.gantt === true && Array.isArray(option.series)) {
      for (const series of option.series as Array<Record<string, unknown>>) {
        if (series.type === 'custom') series.renderItem = renderGantt;
      }
    }
    chart.setOption(option as EChartsOption);
    charts.push(chart);
  });
  win.addEventListener('resize', () => charts.forEach((c) => c.resize()));
}
