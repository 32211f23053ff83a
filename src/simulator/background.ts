/**
 * Background load as the scheduler sees it: each node with background gets a production
 * {@link NodeForecaster}, fed samples of the background series at the sampling interval on the virtual
 * clock; the core gets the +horizon forecast, like `src/admission/cluster-snapshot.ts` maps the monitor's.
 *
 * Modelling choice: a simulated stage uses exactly its allocation, which the ledger knows, so the usage
 * the core is given is `background forecast + Σ allocations on the node` (value and upper band alike):
 * only the background is uncertain. Nodes without background publish no forecast (grants only).
 */
// The forecaster's own modules, not the monitor's barrel: the simulator needs no sampler (systeminformation).
import { NodeForecaster } from '../monitor/node-forecaster';
import type { MetricName } from '../monitor/types';
import type { ForecastUsage, ResourceVector } from '../scheduling/types';
import type { BackgroundSeries, WorkloadNode } from './workload';

/** Most samples fed when catching up over a long quiet gap (the forecaster keeps 120). */
const MAX_CATCH_UP = 150;

/** The value of a step series at `t` seconds (0 before its first point). */
export function seriesValueAt(series: BackgroundSeries, t: number): number {
  let lo = 0;
  let hi = series.length - 1;
  if (series.length === 0 || t < (series[0] as readonly [number, number])[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((series[mid] as readonly [number, number])[0] <= t) lo = mid;
    else hi = mid - 1;
  }
  return (series[lo] as readonly [number, number])[1];
}

/** One node's monitor on the virtual clock. */
export class BackgroundMonitor {
  private readonly forecaster = new NodeForecaster();
  private lastStep = -1;

  /**
   * @param node - the node (capacity bounds the forecasts)
   * @param series - metric → background series
   * @param sampleIntervalSeconds - sampling interval, seconds (> 0)
   * @param horizonSeconds - forecast horizon, seconds (1–10)
   */
  constructor(
    readonly node: WorkloadNode,
    private readonly series: Readonly<Record<string, BackgroundSeries>>,
    private readonly sampleIntervalSeconds: number,
    private readonly horizonSeconds: number,
  ) {}

  /** Background usage of `metric` at `t` seconds (0 without a series). */
  usageAt(metric: string, t: number): number {
    const s = this.series[metric];
    return s === undefined ? 0 : seriesValueAt(s, t);
  }

  /** Feeds every sample due up to `t` seconds (at most {@link MAX_CATCH_UP} of a long gap). */
  advance(t: number): void {
    const step = Math.floor(t / this.sampleIntervalSeconds + 1e-9);
    const from = Math.max(this.lastStep + 1, step - MAX_CATCH_UP + 1);
    for (let k = from; k <= step; k++) {
      const at = k * this.sampleIntervalSeconds;
      const value = (m: MetricName): number | null =>
        this.series[m] === undefined ? null : this.usageAt(m, at);
      this.forecaster.update({
        at: at * 1000,
        cpu: value('cpu'),
        cpuCores: this.node.capacity.cpu ?? null,
        memoryMb: value('memoryMb'),
        memoryTotalMb: this.node.capacity.memoryMb ?? null,
        diskIoMBps: value('diskIoMBps'),
        netMbps: value('netMbps'),
        gpus: null,
        notes: [],
      });
    }
    if (step > this.lastStep) this.lastStep = step;
  }

  /**
   * The usage forecast the core plans on: the background forecast at the horizon plus `granted` (what the
   * node's stages use), per forecast metric; `undefined` before the first sample.
   */
  forecastUsage(granted: Readonly<ResourceVector>): ForecastUsage | undefined {
    const forecasts = this.forecaster.forecast(this.horizonSeconds);
    const out: Record<string, { value: number; upper: number }> = {};
    for (const [metric, f] of Object.entries(forecasts)) {
      if (f === undefined) continue;
      const g = granted[metric] ?? 0;
      out[metric] = { value: f.value + g, upper: f.upper + g };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}
