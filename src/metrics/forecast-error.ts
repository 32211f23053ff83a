import type { NodeSnapshot } from '../monitor/node-forecaster';
import { forecastPoints, usagePoints } from './ledger-gauges';

/** Where {@link ForecastErrorTracker} reports: the mean absolute error of one resource and horizon. */
export type ForecastErrorSink = (resource: string, horizonSeconds: number, meanAbsoluteError: number) => void;

/** Options of {@link ForecastErrorTracker}. */
export interface ForecastErrorTrackerOptions {
  /** Evaluated forecasts averaged per resource and horizon (a rolling window). @default 60 */
  window?: number;
}

interface Prediction {
  readonly target: number;
  readonly resource: string;
  readonly horizonSeconds: number;
  readonly value: number;
}

/**
 * Scores a node's published forecasts against what it measured later: each snapshot's forecast for
 * `at + horizon` is kept until a sample lands on that time (within half a sampling interval), then its
 * absolute error (`|measured − forecast value|`, the point forecast, not the band) joins a rolling window
 * per resource and horizon whose mean goes to the sink. Forecasts whose time passed without a sample are
 * dropped. Pure bookkeeping: time comes from the snapshots.
 */
export class ForecastErrorTracker {
  private readonly window: number;
  private pending: Prediction[] = [];
  private readonly errors = new Map<string, number[]>();
  private previousAt: number | undefined;

  constructor(
    private readonly sink: ForecastErrorSink,
    options: ForecastErrorTrackerOptions = {},
  ) {
    this.window = Math.max(1, Math.floor(options.window ?? 60));
  }

  /** Feeds the snapshot the node agent is about to publish (in time order). */
  observe(snapshot: Pick<NodeSnapshot, 'at' | 'usage' | 'forecast'>): void {
    const { at } = snapshot;
    const step = this.previousAt === undefined ? 1000 : Math.max(1, at - this.previousAt);
    this.previousAt = at;
    const tolerance = step / 2;
    const measured = new Map(usagePoints(snapshot.usage).map((p) => [p.resource, p.value]));
    const keep: Prediction[] = [];
    for (const p of this.pending) {
      if (p.target > at + tolerance) {
        keep.push(p);
        continue;
      }
      if (p.target < at - tolerance) continue; // its time passed without a sample
      const actual = measured.get(p.resource);
      if (actual !== undefined) this.record(p, Math.abs(actual - p.value));
    }
    this.pending = keep;
    for (const f of forecastValues(snapshot.forecast)) {
      this.pending.push({ ...f, target: at + f.horizonSeconds * 1000 });
    }
  }

  private record(p: Prediction, error: number): void {
    const key = `${p.resource}\u0000${p.horizonSeconds}`;
    let xs = this.errors.get(key);
    if (xs === undefined) this.errors.set(key, (xs = []));
    xs.push(error);
    if (xs.length > this.window) xs.shift();
    this.sink(p.resource, p.horizonSeconds, xs.reduce((a, b) => a + b, 0) / xs.length);
  }
}

/** The point values (not the bands) of a published forecast, per monitored resource and horizon. */
function forecastValues(
  forecast: unknown,
): Array<{ resource: string; horizonSeconds: number; value: number }> {
  const uppers = forecastPoints(forecast);
  const out: Array<{ resource: string; horizonSeconds: number; value: number }> = [];
  for (const u of uppers) {
    const f = (forecast as Record<string, Record<string, { value?: unknown }>>)[String(u.horizonSeconds)]?.[
      u.resource
    ];
    if (typeof f?.value === 'number' && Number.isFinite(f.value))
      out.push({ resource: u.resource, horizonSeconds: u.horizonSeconds, value: f.value });
  }
  return out;
}
