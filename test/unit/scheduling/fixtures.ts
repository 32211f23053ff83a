/** Small fixture builders for the scheduling core's table-driven tests. */
import type {
  ClusterSnapshot,
  NodeView,
  PendingRequest,
  PoolView,
  ResourceVector,
  RunningGrant,
} from '../../../src/scheduling';

/** Fixed "now" of every test: 2026-01-01T00:10:00Z. */
export const NOW = new Date('2026-01-01T00:10:00Z');

/** A date `seconds` before {@link NOW}. */
export function ago(seconds: number): Date {
  return new Date(NOW.getTime() - seconds * 1000);
}

/** A usable node with nothing granted. */
export function node(id: string, capacity: ResourceVector, extra: Partial<NodeView> = {}): NodeView {
  return { id, taskQueue: `qm-${id}`, capacity, granted: {}, stale: false, ...extra };
}

/** A pool with nothing granted. */
export function pool(name: string, capacity: number, granted = 0): PoolView {
  return { name, capacity, granted };
}

/** A fresh priority-5 request for `desired` (minimum = desired unless given). */
export function req(
  key: string,
  desired: ResourceVector,
  extra: Partial<PendingRequest> = {},
): PendingRequest {
  return {
    key,
    workflowId: `wf-${key}`,
    stageId: 'stage',
    shardIndex: null,
    priority: 5,
    importance: 0,
    desired,
    minimum: desired,
    readySince: NOW,
    ...extra,
  };
}

/** A running grant. */
export function running(
  key: string,
  nodeId: string,
  granted: ResourceVector,
  extra: Partial<RunningGrant> = {},
): RunningGrant {
  return { key, nodeId, granted, minimum: granted, desired: granted, priority: 5, importance: 0, ...extra };
}

/** A snapshot. */
export function snap(
  nodes: NodeView[],
  pending: PendingRequest[],
  extra: { pools?: PoolView[]; running?: RunningGrant[] } = {},
): ClusterSnapshot {
  return { nodes, pending, pools: extra.pools ?? [], running: extra.running ?? [] };
}

/** Freezes `value` and everything reachable from it (Dates included), so a write throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
