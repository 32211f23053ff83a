/**
 * Gantt lanes: which executions ran on each node, placed in lanes so that no two bars of a lane overlap
 * (a lane is "one of the things running at once", not a CPU).
 */
import type { ExecutionRecord } from '../execution/record';
import { secondsSince } from './time-base';

/** One bar: a record that started, from its start to its end, seconds since the report's origin. */
export interface GanttBar {
  /** The execution. */
  readonly record: ExecutionRecord;
  /** 0-based lane within its node. */
  readonly lane: number;
  /** Start, seconds since the origin. */
  readonly start: number;
  /** End, seconds since the origin (≥ `start`). */
  readonly end: number;
}

/** The bars of one node. */
export interface NodeLanes {
  /** Node id; `null` for executions without a node (stages that need no resources). */
  readonly nodeId: string | null;
  /** Lanes used (at least 1). */
  readonly laneCount: number;
  /** Bars in start order. */
  readonly bars: readonly GanttBar[];
}

function tieKey(r: ExecutionRecord): string {
  return `${r.workflowId}\u0000${r.stageId}\u0000${r.shardIndex ?? -1}\u0000${r.attempt}`;
}

/**
 * Places the records that started (`startedAt` set) into lanes per node: in start order (ties: earlier
 * end, then workflow/stage/shard/attempt), each into the lowest lane free at its start. Nodes come in
 * `nodeOrder`, then the others seen in the records, sorted; records without a node come last (`null`).
 * Nodes in `nodeOrder` with no bars are kept (an idle node is worth seeing).
 * @param origin - the time that is 0 on the x axis
 * @returns one entry per node. Never throws.
 */
export function assignLanes(
  records: readonly ExecutionRecord[],
  origin: Date,
  nodeOrder: readonly string[] = [],
): NodeLanes[] {
  const byNode = new Map<string | null, ExecutionRecord[]>();
  for (const id of nodeOrder) byNode.set(id, []);
  const extra = new Set<string>();
  for (const r of records) {
    if (r.startedAt === null) continue;
    if (r.nodeId !== null && !byNode.has(r.nodeId)) extra.add(r.nodeId);
    const list = byNode.get(r.nodeId) ?? [];
    list.push(r);
    byNode.set(r.nodeId, list);
  }
  const order: Array<string | null> = [...nodeOrder, ...[...extra].sort()];
  if (byNode.has(null)) order.push(null);
  return order.map((nodeId) => {
    const bars = (byNode.get(nodeId) ?? [])
      .map((record) => {
        const start = secondsSince(origin, record.startedAt as Date);
        return { record, start, end: Math.max(start, secondsSince(origin, record.endedAt)) };
      })
      .sort(
        (a, b) =>
          a.start - b.start ||
          a.end - b.end ||
          (tieKey(a.record) < tieKey(b.record) ? -1 : tieKey(a.record) > tieKey(b.record) ? 1 : 0),
      );
    const laneEnds: number[] = [];
    const placed: GanttBar[] = bars.map((bar) => {
      // A bar may start the instant another ends: the same lane.
      let lane = laneEnds.findIndex((end) => end <= bar.start + 1e-9);
      if (lane < 0) lane = laneEnds.length;
      laneEnds[lane] = bar.end;
      return { ...bar, lane };
    });
    return { nodeId, laneCount: Math.max(1, laneEnds.length), bars: placed };
  });
}
