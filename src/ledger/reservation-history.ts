/**
 * Execution records derived from the reservations that have ended (released, expired, cancelled): what
 * the ledger can tell about past executions without an execution table. Less than a real execution record
 * knows: a released reservation reads `completed` (a failed stage releases too), the handler is `unknown`,
 * the attempt 1, shrinks 0, no start estimate, and the definition name is the workflow id less the
 * `-xxxxxxxx` suffix `startPipeline` adds.
 */
import type { ExecutionOutcome, ExecutionRecord } from '../execution/record';
import type { Database } from './db';
import type { ResourceVector } from './types';

/** Which ended reservations to read. */
export interface ReservationHistoryQuery {
  /** Only those that ended at or after this. @default all */
  readonly since?: Date;
  /** Only pipelines of this definition name (workflow id `NAME` or `NAME-xxxxxxxx`). @default all */
  readonly pipeline?: string;
  /** The most recent this many. @default 10000 */
  readonly limit?: number;
}

interface HistoryRow {
  workflow_id: string;
  run_id: string | null;
  stage_id: string;
  shard_index: number | null;
  priority: number;
  importance: number;
  desired: ResourceVector;
  minimum: ResourceVector;
  granted: ResourceVector | null;
  node_id: string | null;
  state: 'released' | 'expired' | 'cancelled';
  requested_at: Date;
  granted_at: Date | null;
  started_at: Date | null;
  ended_at: Date;
  expected_seconds: number | null;
}

const OUTCOME: Record<HistoryRow['state'], ExecutionOutcome> = {
  released: 'completed',
  expired: 'expired',
  cancelled: 'cancelled',
};

/** The definition name behind a workflow id: `etl-1a2b3c4d` → `etl`; ids without the suffix as they are. */
export function definitionNameOf(workflowId: string): string {
  return workflowId.replace(/-[0-9a-f]{8}$/, '');
}

function toRecord(row: HistoryRow): ExecutionRecord {
  const granted = row.granted;
  return {
    workflowId: row.workflow_id,
    runId: row.run_id,
    definitionName: definitionNameOf(row.workflow_id),
    definitionVersion: null,
    stageId: row.stage_id,
    shardIndex: row.shard_index,
    handler: 'unknown',
    attempt: 1,
    priority: row.priority,
    importance: row.importance,
    desired: row.desired,
    minimum: row.minimum,
    granted,
    reduced: granted !== null && Object.entries(row.desired).some(([r, v]) => (granted[r] ?? 0) < v - 1e-9),
    shrinks: 0,
    nodeId: row.node_id,
    expectedSeconds: row.expected_seconds,
    requestedAt: row.requested_at,
    grantedAt: row.granted_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    estimatedStartAt: null,
    outcome: OUTCOME[row.state],
  };
}

/**
 * The ended reservations as execution records (see the module note for what they cannot know), oldest
 * first: the most recent `limit` that ended since `since`, of pipeline `pipeline`.
 * @throws DatabaseUnavailableError (from the pool) when the database cannot be reached.
 */
export async function listEndedReservations(
  db: Database,
  query: ReservationHistoryQuery = {},
): Promise<ExecutionRecord[]> {
  const pattern =
    query.pipeline === undefined ? null : `${query.pipeline.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`;
  const { rows } = await db.pool.query<HistoryRow>(
    `SELECT workflow_id, run_id, stage_id, shard_index, priority, importance, desired, minimum, granted,
            node_id, state, requested_at, granted_at, started_at,
            coalesce(ended_at, updated_at) AS ended_at, expected_seconds
       FROM qm_reservations
      WHERE state IN ('released', 'expired', 'cancelled')
        AND ($1::timestamptz IS NULL OR coalesce(ended_at, updated_at) >= $1)
        AND ($2::text IS NULL OR workflow_id = $2 OR workflow_id LIKE $3)
      ORDER BY coalesce(ended_at, updated_at) DESC, key
      LIMIT $4`,
    [query.since ?? null, query.pipeline ?? null, pattern, query.limit ?? 10_000],
  );
  return rows
    .map(toRecord)
    .filter((r) => query.pipeline === undefined || r.definitionName === query.pipeline)
    .reverse();
}
