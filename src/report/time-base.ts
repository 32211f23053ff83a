/** The report's time base: every chart's x axis is seconds since one origin shared by all sections. */
import type { ExecutionRecord } from '../execution/record';

/** Seconds from `origin` to `at` (negative before it). */
export function secondsSince(origin: Date, at: Date): number {
  return (at.getTime() - origin.getTime()) / 1000;
}

/**
 * The report's origin: the earliest request among `records`, so every section of a comparison starts at
 * 0 on the same axis. `null` when there are no records.
 */
export function reportOrigin(records: Iterable<ExecutionRecord>): Date | null {
  let min = Infinity;
  for (const r of records) min = Math.min(min, r.requestedAt.getTime());
  return Number.isFinite(min) ? new Date(min) : null;
}

/** When a record stopped waiting: its start, else its grant, else its end (it never ran). */
export function leftQueueAt(r: ExecutionRecord): Date {
  return r.startedAt ?? r.grantedAt ?? r.endedAt;
}

/** `definition/stage#shard attempt n` — how the report names one record in tooltips and tables. */
export function describeRecord(r: ExecutionRecord): string {
  const shard = r.shardIndex === null ? '' : `#${r.shardIndex}`;
  return `${r.workflowId} ${r.stageId}${shard} attempt ${r.attempt}`;
}
