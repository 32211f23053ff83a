/** The estimate-accuracy chart: mean |error| of start estimates and of declared and learned run times, per stage key. */
import type { BarSeriesOption } from 'echarts';
import type { AccuracyRow } from './accuracy';
import type { ChartSpec } from './chart-spec';
import { escapeHtml, formatSeconds } from './format';

/** Most stage keys drawn; the table below the chart lists them all. */
export const ACCURACY_CHART_MAX_KEYS = 20;

/**
 * A horizontal bar chart, one row per stage key with any estimate (at most
 * {@link ACCURACY_CHART_MAX_KEYS}: those with the most estimates, in key order): mean |start-estimate error|, mean
 * |declared run-time error| and, when some key has one, mean |learned run-time error|, seconds, each bar's
 * tooltip with count, signed mean and p95.
 * @returns the spec, or `null` when no key has an estimate of either kind.
 */
export function accuracyChart(rows: readonly AccuracyRow[], idPrefix: string): ChartSpec | null {
  const estimated = rows.filter((r) => r.start !== null || r.runTime !== null || r.learnedRunTime !== null);
  if (estimated.length === 0) return null;
  const weight = (r: AccuracyRow): number =>
    (r.start?.count ?? 0) + (r.runTime?.count ?? 0) + (r.learnedRunTime?.count ?? 0);
  const kept = new Set(
    [...estimated].sort((a, b) => weight(b) - weight(a)).slice(0, ACCURACY_CHART_MAX_KEYS),
  );
  const shown = estimated.filter((r) => kept.has(r));
  const left = estimated.length - shown.length;
  const kinds = [
    { name: 'start estimate: mean |error|', colour: '#1f77b4', pick: (r: AccuracyRow) => r.start },
    { name: 'declared run time: mean |error|', colour: '#ff7f0e', pick: (r: AccuracyRow) => r.runTime },
    {
      name: 'learned run time: mean |error|',
      colour: '#2ca02c',
      pick: (r: AccuracyRow) => r.learnedRunTime,
    },
  ] as const;
  // Learned run times are drawn only when some key has them (a run without them keeps its two bars).
  const drawn = kinds.filter((k, i) => i < 2 || shown.some((r) => k.pick(r) !== null));
  const tips: string[][] = [];
  const series: BarSeriesOption[] = drawn.map((k) => {
    tips.push(
      shown.map((r) => {
        const s = k.pick(r);
        return s === null
          ? `${escapeHtml(r.key)}: no ${k.name.split(':')[0] ?? ''} data`
          : `<b>${escapeHtml(r.key)}</b> — ${escapeHtml(k.name.split(':')[0] ?? '')}<br>` +
              `n=${s.count} · mean |error| ${formatSeconds(s.meanAbsSeconds)} · mean ${formatSeconds(s.meanSeconds)} · ` +
              `p95 |error| ${formatSeconds(s.p95AbsSeconds)}`;
      }),
    );
    return {
      type: 'bar',
      name: k.name,
      color: k.colour,
      data: shown.map((r) => Number((k.pick(r)?.meanAbsSeconds ?? 0).toFixed(3))),
    };
  });
  return {
    id: `${idPrefix}-accuracy`,
    height: 100 + shown.length * 34,
    tips,
    option: {
      animation: false,
      title: {
        text: 'estimate accuracy per stage key, seconds',
        subtext: left > 0 ? `the ${shown.length} keys with most estimates; ${left} more in the table` : '',
        left: 0,
        textStyle: { fontSize: 13 },
        subtextStyle: { fontSize: 11 },
      },
      legend: { right: 0, top: 0 },
      grid: { left: 8, right: 24, top: 56, bottom: 36, containLabel: true },
      tooltip: {},
      xAxis: { type: 'value' },
      yAxis: { type: 'category', inverse: true, data: shown.map((r) => r.key) },
      series,
    },
  };
}
