/**
 * The synthetic clusters of `npm run bench -- scheduler` (seeded): nodes of 8–32 cores and 16–64 GiB, a
 * third with forecasts, a quarter half-granted, 2 % stale; requests of 1–8 cores and 1–16 GiB.
 */
import type { ClusterSnapshot, NodeView, PendingRequest, ResourceVector } from '../src/scheduling/types';

/** The synthetic snapshots' "now". */
export const NOW = new Date('2026-01-01T00:00:00Z');

/** A deterministic LCG in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Request `i` of the synthetic distribution (see {@link syntheticSnapshot}), ready since `readySince()`. */
export function syntheticRequest(r: () => number, i: number, readySince: () => Date): PendingRequest {
  const cpu = 1 + Math.floor(r() * 8);
  const memoryMb = 1024 * (1 + Math.floor(r() * 16));
  const reduced = r() < 0.33;
  const lic = r() < 0.05;
  const shardable = r() < 0.1;
  return {
    key: `req-${i}`,
    workflowId: `wf-${i % 997}`,
    stageId: `s${i % 7}`,
    shardIndex: null,
    priority: 1 + Math.floor(r() * 10),
    importance: r() < 0.1 ? Math.floor(r() * 6) : 0,
    desired: { cpu, memoryMb, ...(lic ? { lic: 1 } : {}) },
    minimum: reduced
      ? { cpu: cpu / 2, memoryMb: memoryMb / 2 }
      : { cpu, memoryMb, ...(lic ? { lic: 1 } : {}) },
    readySince: readySince(),
    ...(shardable ? { shard: { maxShards: 8, itemCount: 100 } } : {}),
  };
}

/**
 * A synthetic cluster: nodes of 8–32 cores and 16–64 GiB, a third carrying monitor forecasts and a quarter
 * half-granted; requests of 1–8 cores and 1–16 GiB (whole GiB), minimum half of desired for a third, 10 %
 * shardable, 5 % using a 50-slot license pool, ready within the last 15 minutes, priorities 1–10.
 */
export function syntheticSnapshot(pending: number, nodes: number, seed = 1): ClusterSnapshot {
  const r = rng(seed);
  const nodeViews: NodeView[] = Array.from({ length: nodes }, (_, i) => {
    const cpu = 8 * (1 + Math.floor(r() * 4));
    const memoryMb = 16384 * (1 + Math.floor(r() * 4));
    const busy = r() < 0.25;
    const monitored = r() < 0.33;
    const granted: ResourceVector = busy ? { cpu: cpu / 2, memoryMb: memoryMb / 2 } : {};
    return {
      id: `node-${String(i).padStart(4, '0')}`,
      taskQueue: `qm-node-${i}`,
      capacity: { cpu, memoryMb },
      granted,
      ...(monitored ? { forecastUsage: { cpu: { value: cpu * 0.3, upper: cpu * 0.4 } } } : {}),
      stale: r() < 0.02,
    };
  });
  const requests: PendingRequest[] = Array.from({ length: pending }, (_, i) =>
    syntheticRequest(r, i, () => new Date(NOW.getTime() - Math.floor(r() * 900_000))),
  );
  return {
    nodes: nodeViews,
    pools: [{ name: 'lic', capacity: 50, granted: 10 }],
    pending: requests,
    running: [],
  };
}
