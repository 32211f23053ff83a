import type {
  NodeRecord,
  ReservationRecord,
  ReservationState,
  ResourceVector,
  ShardOrder,
  ShardSpecRecord,
} from './types';

/** A `qm_nodes` row as pg returns it. */
export interface NodeRow {
  id: string;
  task_queue: string;
  capacity: ResourceVector;
  labels: Record<string, string>;
  registered_at: Date;
  last_heartbeat: Date;
  usage: unknown;
  forecast: unknown;
  usage_at: Date | null;
}

/** A `qm_reservations` row as pg returns it. */
export interface ReservationRow {
  key: string;
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
  state: ReservationState;
  lease_expires_at: Date | null;
  requested_at: Date;
  granted_at: Date | null;
  ended_at: Date | null;
  last_score: number | null;
  score_breakdown: Record<string, number> | null;
  reason: string | null;
  shard_spec: ShardSpecRecord | null;
  expected_seconds: number | null;
  shard_order?: ShardOrder | null;
  avoid_node?: string | null;
  seq?: string | number | null;
  started_at?: Date | null;
  definition_name?: string | null;
  definition_version?: number | null;
  handler?: string | null;
  attempt?: number;
  shrinks?: number;
  estimated_start_at?: Date | null;
  behind?: string | null;
  promoted_at?: Date | null;
  /** Joined by a snapshot: the stage key's learned run time (`qm_run_estimates`). */
  learned_seconds?: number | null;
  learned_samples?: number | null;
}

/** Orders records by key (code-unit order, as everywhere in the core; not the database's collation). */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Maps a node row to its record. */
export function toNode(row: NodeRow): NodeRecord {
  return {
    id: row.id,
    taskQueue: row.task_queue,
    capacity: row.capacity,
    labels: row.labels,
    registeredAt: row.registered_at,
    lastHeartbeat: row.last_heartbeat,
    usage: row.usage,
    forecast: row.forecast,
    usageAt: row.usage_at,
  };
}

/** Maps a reservation row to its record. */
export function toReservation(row: ReservationRow): ReservationRecord {
  return {
    key: row.key,
    workflowId: row.workflow_id,
    runId: row.run_id,
    stageId: row.stage_id,
    shardIndex: row.shard_index,
    priority: row.priority,
    importance: row.importance,
    desired: row.desired,
    minimum: row.minimum,
    granted: row.granted,
    nodeId: row.node_id,
    state: row.state,
    leaseExpiresAt: row.lease_expires_at,
    requestedAt: row.requested_at,
    grantedAt: row.granted_at,
    endedAt: row.ended_at,
    lastScore: row.last_score,
    scoreBreakdown: row.score_breakdown,
    reason: row.reason,
    shardSpec: row.shard_spec ?? null,
    expectedSeconds: row.expected_seconds ?? null,
    shardOrder: row.shard_order ?? null,
    avoidNode: row.avoid_node ?? null,
    seq: row.seq === undefined || row.seq === null ? null : Number(row.seq),
    startedAt: row.started_at ?? null,
    definitionName: row.definition_name ?? null,
    definitionVersion: row.definition_version ?? null,
    handler: row.handler ?? null,
    attempt: row.attempt ?? 1,
    shrinks: row.shrinks ?? 0,
    estimatedStartAt: row.estimated_start_at ?? null,
    behind: row.behind ?? null,
    promotedAt: row.promoted_at ?? null,
    ...(row.learned_seconds === undefined ||
    row.learned_seconds === null ||
    row.learned_samples === undefined ||
    row.learned_samples === null
      ? {}
      : { learned: { seconds: row.learned_seconds, samples: row.learned_samples } }),
  };
}

/** Active (granted + running) holdings per node and resource, and per resource across all nodes. */
export const HELD_SQL = `
  SELECT r.node_id, e.key AS resource, sum(e.value::float8) AS granted
    FROM qm_reservations r
    CROSS JOIN LATERAL jsonb_each_text(r.granted) AS e
   WHERE r.state IN ('granted', 'running') AND r.behind IS NULL
   GROUP BY r.node_id, e.key`;

/** One row of {@link HELD_SQL}. */
export interface HeldRow {
  node_id: string;
  resource: string;
  granted: number;
}
