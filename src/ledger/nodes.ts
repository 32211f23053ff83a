import type { Database } from './db';
import { inTransaction } from './db';
import { InvalidLedgerArgumentError, translateDbError, UnknownNodeError } from './errors';
import { toNode, type NodeRow } from './rows';
import { HOST_RESOURCES, isHostResource, type NodeRecord, type ResourceVector } from './types';
import { checkId, checkVector } from './vectors';

/** Input of {@link registerNode}. */
export interface RegisterNodeInput {
  /** Node id, unique in the cluster (e.g. the host name). */
  id: string;
  /** Host capacity: only `cpu`, `memoryMb`, `gpu`, `diskIoMBps`, `netMbps` (custom pools are cluster-wide). */
  capacity: ResourceVector;
  /** The task queue its worker polls. @default `quartermaster-node-<id>` */
  taskQueue?: string;
  /** Free-form labels. @default {} */
  labels?: Record<string, string>;
}

/** The latest monitor reading of a node (written with a heartbeat). */
export interface NodeUsageSnapshot {
  /** Measured usage (shape owned by `src/monitor`). */
  usage: unknown;
  /** Forecast usage (shape owned by `src/monitor`). */
  forecast?: unknown;
}

/** The default task queue of node `id`: `quartermaster-node-<id>`. */
export function nodeTaskQueue(id: string): string {
  return `quartermaster-node-${id}`;
}

const NODE_COLUMNS =
  'id, task_queue, capacity, labels, registered_at, last_heartbeat, usage, forecast, usage_at';

/**
 * Registers a node, or updates its task queue, capacity and labels when it registers again (a restarted
 * worker), and counts as a heartbeat. Lowering capacity below what is granted is allowed (a worker must be
 * able to start); nothing new is granted there until it fits again, and `checkInvariant` reports it meanwhile.
 * @throws InvalidLedgerArgumentError for an empty id or a capacity naming a non-host resource;
 *   InvalidQuantityError for a negative or non-finite capacity; DatabaseUnavailableError.
 */
export async function registerNode(db: Database, input: RegisterNodeInput, now?: Date): Promise<NodeRecord> {
  const id = checkId('node.id', input.id);
  const capacity = checkVector('node.capacity', input.capacity);
  for (const name of Object.keys(capacity)) {
    if (!isHostResource(name)) {
      throw new InvalidLedgerArgumentError(
        `node.capacity.${name}`,
        name,
        `a host resource (${HOST_RESOURCES.join(', ')})`,
      );
    }
  }
  const taskQueue = checkId('node.taskQueue', input.taskQueue ?? nodeTaskQueue(id));
  return inTransaction(db, 'register node', async (client) => {
    const { rows } = await client.query<NodeRow>(
      `INSERT INTO qm_nodes (id, task_queue, capacity, labels, registered_at, last_heartbeat)
       VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), coalesce($5::timestamptz, now()))
       ON CONFLICT (id) DO UPDATE
          SET task_queue = EXCLUDED.task_queue,
              capacity = EXCLUDED.capacity,
              labels = EXCLUDED.labels,
              last_heartbeat = EXCLUDED.last_heartbeat
       RETURNING ${NODE_COLUMNS}`,
      [id, taskQueue, JSON.stringify(capacity), JSON.stringify(input.labels ?? {}), now ?? null],
    );
    return toNode(rows[0] as NodeRow);
  });
}

/**
 * Records that node `id` is alive at `now` (absent: the database's clock, as production does), optionally with
 * its latest usage and forecast (stamped with the same time).
 * @throws UnknownNodeError when no such node is registered; DatabaseUnavailableError.
 */
export async function heartbeatNode(
  db: Database,
  id: string,
  now?: Date,
  snapshot?: NodeUsageSnapshot,
): Promise<NodeRecord> {
  let rows: NodeRow[];
  try {
    ({ rows } = await db.pool.query<NodeRow>(
      `UPDATE qm_nodes
          SET last_heartbeat = coalesce($2::timestamptz, now()),
              usage = CASE WHEN $3::boolean THEN $4::jsonb ELSE usage END,
              forecast = CASE WHEN $3::boolean THEN $5::jsonb ELSE forecast END,
              usage_at = CASE WHEN $3::boolean THEN coalesce($2::timestamptz, now()) ELSE usage_at END
        WHERE id = $1
       RETURNING ${NODE_COLUMNS}`,
      [
        id,
        now ?? null,
        snapshot !== undefined,
        JSON.stringify(snapshot?.usage ?? null),
        JSON.stringify(snapshot?.forecast ?? null),
      ],
    ));
  } catch (err) {
    throw translateDbError(err, 'heartbeat node');
  }
  const row = rows[0];
  if (row === undefined) throw new UnknownNodeError(id);
  return toNode(row);
}

/**
 * One node by id.
 * @throws UnknownNodeError when none; DatabaseUnavailableError.
 */
export async function getNode(db: Database, id: string): Promise<NodeRecord> {
  try {
    const { rows } = await db.pool.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM qm_nodes WHERE id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw new UnknownNodeError(id);
    return toNode(row);
  } catch (err) {
    throw translateDbError(err, 'read node');
  }
}

/** True when `lastHeartbeat` is more than `staleAfterMs` before `now`. */
export function isStale(lastHeartbeat: Date, now: Date, staleAfterMs: number): boolean {
  return now.getTime() - lastHeartbeat.getTime() > staleAfterMs;
}
