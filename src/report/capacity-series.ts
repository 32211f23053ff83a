/**
 * Capacity per node over time: what the ledger granted (from the records) next to what was used and
 * forecast (from optional samples).
 */
import type { ExecutionRecord } from '../execution/record';
import { HOST_RESOURCE_NAMES } from '../scheduling/types';
import { secondsSince } from './time-base';
import type { NodeSample, ReportNode } from './types';

/** A value from `t` until the next point (step series) or at `t` (samples). */
export interface SeriesPoint {
  /** Seconds since the origin. */
  readonly t: number;
  /** The value, in the resource's unit. */
  readonly value: number;
}

/** The three series of one node resource. */
export interface CapacitySeries {
  /** Node id. */
  readonly nodeId: string;
  /** Resource name. */
  readonly resource: string;
  /** The node's capacity of it, `null` when the node is unknown. */
  readonly capacity: number | null;
  /** Σ granted on the node, a step series. */
  readonly granted: readonly SeriesPoint[];
  /** Measured usage samples (empty: none). */
  readonly used: readonly SeriesPoint[];
  /** Forecast samples (empty: none). */
  readonly forecast: readonly SeriesPoint[];
}

const HOST = new Set<string>(HOST_RESOURCE_NAMES);

/**
 * Σ `granted[resource]` of the records on `nodeId` as a step series: each record holds its grant from
 * `grantedAt` (else `startedAt`) to `endedAt`. `granted` is the final grant (after any shrink), so a shrunk
 * execution counts at its final size throughout.
 * @returns points in time order, starting at the first grant; empty when nothing was granted there.
 */
export function grantedSeries(
  records: readonly ExecutionRecord[],
  origin: Date,
  nodeId: string,
  resource: string,
): SeriesPoint[] {
  const deltas = new Map<number, number>();
  for (const r of records) {
    const amount = r.granted?.[resource] ?? 0;
    const from = r.grantedAt ?? r.startedAt;
    if (r.nodeId !== nodeId || amount === 0 || from === null) continue;
    const a = secondsSince(origin, from);
    const b = Math.max(a, secondsSince(origin, r.endedAt));
    if (b === a) continue;
    deltas.set(a, (deltas.get(a) ?? 0) + amount);
    deltas.set(b, (deltas.get(b) ?? 0) - amount);
  }
  let now = 0;
  const out: SeriesPoint[] = [];
  for (const t of [...deltas.keys()].sort((x, y) => x - y)) {
    now += deltas.get(t) as number;
    // Float sums of fractional grants: snap tiny residues to 0 so an idle node reads 0.
    const value = Math.abs(now) < 1e-9 ? 0 : now;
    const last = out[out.length - 1];
    if (last !== undefined && Math.abs(last.value - value) < 1e-12) continue;
    out.push({ t, value });
  }
  return out;
}

/**
 * The capacity series of every node and host resource worth drawing: nodes in `nodes` order then the
 * others seen in the records (sorted); per node the host resources (`cpu`, `memoryMb`, `gpu`,
 * `diskIoMBps`, `netMbps`, in that order) that some record was granted there or some sample measured.
 * Pools (cluster-wide resources) have no node and are left out.
 * @returns one entry per node resource. Never throws.
 */
export function capacitySeries(
  records: readonly ExecutionRecord[],
  origin: Date,
  nodes: readonly ReportNode[] = [],
  samples: readonly NodeSample[] = [],
): CapacitySeries[] {
  const ids = nodes.map((n) => n.id);
  const seen = new Set(ids);
  const extra = new Set<string>();
  const used = new Map<string, Set<string>>();
  const note = (nodeId: string, resource: string): void => {
    if (!HOST.has(resource)) return;
    if (!seen.has(nodeId)) extra.add(nodeId);
    const set = used.get(nodeId) ?? new Set<string>();
    set.add(resource);
    used.set(nodeId, set);
  };
  for (const r of records) {
    if (r.nodeId === null || r.granted === null) continue;
    for (const [resource, v] of Object.entries(r.granted)) if (v > 0) note(r.nodeId, resource);
  }
  for (const s of samples) note(s.nodeId, s.resource);
  const out: CapacitySeries[] = [];
  for (const nodeId of [...ids, ...[...extra].sort()]) {
    const resources = used.get(nodeId);
    if (resources === undefined) continue;
    const node = nodes.find((n) => n.id === nodeId);
    for (const resource of HOST_RESOURCE_NAMES) {
      if (!resources.has(resource)) continue;
      const mine = samples
        .filter((s) => s.nodeId === nodeId && s.resource === resource)
        .sort((a, b) => a.at.getTime() - b.at.getTime());
      out.push({
        nodeId,
        resource,
        capacity: node?.capacity[resource] ?? null,
        granted: grantedSeries(records, origin, nodeId, resource),
        used: mine.flatMap((s) =>
          s.used === null ? [] : [{ t: secondsSince(origin, s.at), value: s.used }],
        ),
        forecast: mine.flatMap((s) =>
          s.forecast === null ? [] : [{ t: secondsSince(origin, s.at), value: s.forecast }],
        ),
      });
    }
  }
  return out;
}
