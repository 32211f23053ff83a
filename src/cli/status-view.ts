/**
 * What `qm status` prints, pure: the pipeline's own status reconciled with what Temporal says about the run
 * (a terminated or timed-out run cannot update itself, so its last known stage states would lie), and the
 * stage table with the wait reason, estimated start and error per stage.
 */
import type { PipelineStatus, StageState } from '../pipeline/types';

/** What `describe()` says about the run. */
export interface TemporalRunInfo {
  /** Temporal's execution status name: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  /** ISO-8601 close time, when closed. */
  closeTime?: string;
}

/** A status reconciled with Temporal. */
export interface StatusView {
  /** The state to print: the pipeline's, or `terminated` / `timed out` from Temporal. */
  state: string;
  /** A line explaining a difference, when there is one. */
  note?: string;
  /** Stages, with unfinished ones marked as Temporal left them. */
  stages: Record<string, StageState & { displayStatus: string }>;
}

const FINAL = new Set(['completed', 'partial', 'failed', 'skipped', 'cancelled']);
const ENDED_BY_TEMPORAL: Record<string, string> = { TERMINATED: 'terminated', TIMED_OUT: 'timed out' };

/**
 * Reconciles the pipeline's `status` (absent when the query could not run) with Temporal's description: a
 * run Temporal terminated or timed out is shown as such, and its unfinished stages as `terminated` /
 * `timed out` (their ledger rows lapse with their leases).
 */
export function statusView(status: PipelineStatus | undefined, temporal: TemporalRunInfo): StatusView {
  const ended = ENDED_BY_TEMPORAL[temporal.status];
  const stages: StatusView['stages'] = {};
  for (const [id, s] of Object.entries(status?.stages ?? {}))
    stages[id] = { ...s, displayStatus: ended !== undefined && !FINAL.has(s.status) ? ended : s.status };
  if (ended !== undefined)
    return {
      state: ended,
      note: `Temporal says ${temporal.status}${temporal.closeTime ? ` at ${temporal.closeTime}` : ''}: the run was stopped from outside and could not record its end; unfinished stages are shown as ${ended}`,
      stages,
    };
  if (status === undefined)
    return {
      state: temporal.status.toLowerCase(),
      note: 'the status query did not answer (is a worker running?)',
      stages,
    };
  return { state: status.state, stages };
}

/** One row per stage: STAGE, STATUS, ATTEMPTS, NODE, ALLOCATION, STARTED, COMPLETED, EST. START, WAIT REASON / ERROR. */
export const STATUS_HEADERS = [
  'STAGE',
  'STATUS',
  'ATTEMPTS',
  'NODE',
  'ALLOCATION',
  'STARTED',
  'COMPLETED',
  'EST. START',
  'WAIT REASON / ERROR',
];

/**
 * The stage table's rows. `estimates` maps a stage id to the scheduler's estimated start (ISO-8601, `null`
 * for unknown) for stages waiting in its queue.
 */
export function statusRows(
  view: StatusView,
  estimates: ReadonlyMap<string, string | null> = new Map(),
): string[][] {
  return Object.entries(view.stages).map(([id, s]) => {
    const estimate =
      s.displayStatus !== 'waiting'
        ? ''
        : estimates.has(id)
          ? (estimates.get(id) ?? 'unknown')
          : s.estimatedStartAt === undefined
            ? ''
            : (s.estimatedStartAt ?? 'unknown');
    const note =
      s.displayStatus === 'waiting' ? (s.waitReason ?? 'waiting for the scheduler') : (s.error ?? '');
    return [
      id,
      s.displayStatus,
      String(s.attempts),
      s.node ?? (s.shards ? `${s.shards.length} shards` : ''),
      s.allocation
        ? Object.entries(s.allocation)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')
        : '',
      s.startedAt ?? '',
      s.completedAt ?? '',
      estimate,
      note.replace(/\s+/g, ' '),
    ];
  });
}
