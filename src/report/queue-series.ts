/**
 * The queue over time, by priority band: how many executions were waiting (requested, not yet started)
 * and how long each one waited. Bands as everywhere in Quartermaster's reports: high 8–10, mid 4–7, low 1–3.
 */
import type { ExecutionRecord } from '../execution/record';
import { bandOf, type Band } from '../simulator/metrics';
import { leftQueueAt, secondsSince } from './time-base';

/** The bands, highest first (legend and series order). */
export const BANDS: readonly Band[] = ['high', 'mid', 'low'];

/** Queue length per band from `t` until the next point (a step series). */
export interface QueuePoint {
  /** Seconds since the origin. */
  readonly t: number;
  /** Executions of each band waiting from `t` on. */
  readonly waiting: Readonly<Record<Band, number>>;
}

/** One execution's wait, plotted when it ended (when it started, or gave up waiting). */
export interface WaitPoint {
  /** When it stopped waiting, seconds since the origin. */
  readonly t: number;
  /** requested → started (or granted, or ended when it never ran), seconds. */
  readonly waitSeconds: number;
  /** Its priority band. */
  readonly band: Band;
  /** The execution. */
  readonly record: ExecutionRecord;
}

/**
 * The queue length per band as a step series: one point at every instant the count changes (arrivals and
 * departures at the same instant are netted), starting with the first arrival. A record waits from
 * `requestedAt` until `startedAt` (else `grantedAt`, else `endedAt`: cancelled or expired while waiting).
 * @returns points in time order; empty for no records. Never throws.
 */
export function queueLengthSeries(records: readonly ExecutionRecord[], origin: Date): QueuePoint[] {
  const deltas = new Map<number, Record<Band, number>>();
  const add = (t: number, band: Band, d: number): void => {
    const row = deltas.get(t) ?? { high: 0, mid: 0, low: 0 };
    row[band] += d;
    deltas.set(t, row);
  };
  for (const r of records) {
    const band = bandOf(r.priority);
    const from = secondsSince(origin, r.requestedAt);
    const to = Math.max(from, secondsSince(origin, leftQueueAt(r)));
    if (to === from) continue; // never waited: no change to the queue
    add(from, band, 1);
    add(to, band, -1);
  }
  const now: Record<Band, number> = { high: 0, mid: 0, low: 0 };
  const out: QueuePoint[] = [];
  for (const t of [...deltas.keys()].sort((a, b) => a - b)) {
    const d = deltas.get(t) as Record<Band, number>;
    for (const b of BANDS) now[b] += d[b];
    const last = out[out.length - 1];
    if (last !== undefined && BANDS.every((b) => last.waiting[b] === now[b])) continue;
    out.push({ t, waiting: { ...now } });
  }
  return out;
}

/**
 * Every record's wait, in time order (when it stopped waiting).
 * @returns one point per record. Never throws.
 */
export function waitPoints(records: readonly ExecutionRecord[], origin: Date): WaitPoint[] {
  return records
    .map((record) => {
      const t = secondsSince(origin, leftQueueAt(record));
      return {
        t,
        waitSeconds: Math.max(0, t - secondsSince(origin, record.requestedAt)),
        band: bandOf(record.priority),
        record,
      };
    })
    .sort((a, b) => a.t - b.t);
}
