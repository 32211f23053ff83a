/**
 * The scheduler workflow's "current details" for the Web UI: when the last cycle ran and the top of its
 * queue, as an aligned table in a fenced block. Pure: the scheduler workflow calls it after each cycle
 * (`setCurrentDetails(schedulerDetails({ lastCycleAt, cycles, entries }))`).
 */
import { cell, fencedTable } from './text-table';

/** The part of a queue row the details show (structurally a `QueueRow`). */
export interface SchedulerDetailsRow {
  readonly rank: number;
  readonly workflowId: string;
  readonly stageId: string;
  readonly shardIndex: number | null;
  readonly score: number;
  readonly decision: string;
  readonly reason: string;
  readonly estimatedStartAt?: string | null;
}

/** What the scheduler knows after a cycle (structurally its `queue` query's answer). */
export interface SchedulerDetailsInput {
  readonly lastCycleAt: string | null;
  readonly cycles: number;
  readonly entries: readonly SchedulerDetailsRow[];
}

/** Rows shown (the `queue` query and `qm queue` have them all). */
export const SCHEDULER_DETAILS_ROWS = 15;

/**
 * Markdown: a headline (last cycle time, cycles, requests in the queue) and the top
 * {@link SCHEDULER_DETAILS_ROWS} rows — rank, pipeline (workflow id), stage (with `#shard`), score, decision,
 * estimated start (`unknown` when the scheduler cannot tell) and reason. Bounded whatever the queue holds.
 */
export function schedulerDetails(queue: SchedulerDetailsInput, limit = SCHEDULER_DETAILS_ROWS): string {
  const top = queue.entries.slice(0, limit);
  const headline =
    queue.lastCycleAt === null
      ? '**Quartermaster scheduler** — no cycle yet'
      : `**Quartermaster scheduler** — last cycle ${queue.lastCycleAt} · ${queue.cycles} cycle${
          queue.cycles === 1 ? '' : 's'
        } this run · ${queue.entries.length} in queue`;
  if (top.length === 0) return `${headline}\n\nThe queue is empty.`;
  const rows = top.map((e) => [
    String(e.rank),
    cell(e.workflowId, 48),
    cell(e.shardIndex === null ? e.stageId : `${e.stageId}#${e.shardIndex}`, 40),
    e.score.toFixed(3),
    e.decision,
    e.estimatedStartAt === undefined ? '' : (e.estimatedStartAt ?? 'unknown'),
    cell(e.reason),
  ]);
  const more = queue.entries.length - top.length;
  return [
    headline,
    '',
    fencedTable(['RANK', 'PIPELINE', 'STAGE', 'SCORE', 'DECISION', 'EST. START', 'REASON'], rows),
    ...(more > 0 ? ['', `… and ${more} more (query \`queue\` or run \`qm queue\`)`] : []),
  ].join('\n');
}
