import type { LedgerSnapshot } from '../ledger/snapshot';
import type { ReservationRecord } from '../ledger/types';
import { expectedRunSeconds } from '../scheduling/runtime';
import type { ClusterSnapshot, ForecastUsage, PendingRequest, RunningGrant } from '../scheduling/types';

/** The forecast horizon the scheduler plans on, in seconds (the monitor publishes 5 and 10). */
export const PLANNING_HORIZON_SECONDS = 10;

/** Monitor metric name → ledger resource name, for the metrics that measure a capacity the ledger grants. */
const METRIC_TO_RESOURCE: Readonly<Record<string, string>> = {
  cpu: 'cpu',
  memoryMb: 'memoryMb',
  diskIoMBps: 'diskIoMBps',
  netMbps: 'netMbps',
};

function isForecastEntry(v: unknown): v is { value: number; upper: number } {
  const ok = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  // A node may publish garbage (a negative or non-finite forecast): such an entry is ignored, never trusted.
  return (
    typeof v === 'object' &&
    v !== null &&
    ok((v as { value?: unknown }).value) &&
    ok((v as { upper?: unknown }).upper)
  );
}

/**
 * The usage forecast a node published (the monitor's `NodeSnapshot.forecast[horizon]`), as the scheduler's
 * {@link ForecastUsage}; undefined when the node publishes none or it is older than `maxAgeMs`.
 */
export function forecastUsage(
  forecast: unknown,
  usageAt: Date | null,
  now: Date,
  maxAgeMs: number,
  horizonSeconds = PLANNING_HORIZON_SECONDS,
): ForecastUsage | undefined {
  if (usageAt === null || now.getTime() - usageAt.getTime() > maxAgeMs) return undefined;
  if (typeof forecast !== 'object' || forecast === null) return undefined;
  const atHorizon = (forecast as Record<string, unknown>)[String(horizonSeconds)];
  if (typeof atHorizon !== 'object' || atHorizon === null) return undefined;
  const out: Record<string, { value: number; upper: number }> = {};
  for (const [metric, resource] of Object.entries(METRIC_TO_RESOURCE)) {
    const f = (atHorizon as Record<string, unknown>)[metric];
    if (isForecastEntry(f)) out[resource] = { value: f.value, upper: f.upper };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Σ active boost amounts per boosted workflow id. */
function boostTotals(snapshot: LedgerSnapshot): Map<string, number> {
  const totals = new Map<string, number>();
  for (const b of snapshot.boosts) totals.set(b.workflowId, (totals.get(b.workflowId) ?? 0) + b.amount);
  return totals;
}

/**
 * The boost that applies to a requesting workflow: its own, plus its pipeline's when it is a shard child —
 * shard ids are `<pipeline>/<stage>/shard-<i>` (see `shardWorkflowId`), so a boost on the pipeline lifts
 * its shards too.
 */
export function boostFor(workflowId: string, totals: ReadonlyMap<string, number>): number {
  let sum = totals.get(workflowId) ?? 0;
  const shard = /^(.*)\/[^/]+\/shard-\d+$/.exec(workflowId);
  if (shard !== null) sum += totals.get(shard[1] as string) ?? 0;
  return sum;
}

/**
 * A reservation's expected run time at its desired allocation: the one its stage declared, else its stage
 * key's learned one (the snapshot reads it only for requests that declare none and keys with enough runs);
 * undefined when neither is known.
 */
export function expectedRun(
  r: Pick<ReservationRecord, 'expectedSeconds' | 'learned'>,
): { seconds: number; source: 'declared' | 'learned'; samples?: number } | undefined {
  if (r.expectedSeconds !== null) return { seconds: r.expectedSeconds, source: 'declared' };
  if (r.learned !== undefined && r.learned.seconds > 0)
    return { seconds: r.learned.seconds, source: 'learned', samples: r.learned.samples };
  return undefined;
}

function pendingRequest(r: ReservationRecord, boosts: Map<string, number>): PendingRequest {
  const expected = expectedRun(r);
  return {
    key: r.key,
    workflowId: r.workflowId,
    stageId: r.stageId,
    shardIndex: r.shardIndex,
    priority: r.priority,
    importance: r.importance + boostFor(r.workflowId, boosts),
    desired: r.desired,
    minimum: r.minimum,
    readySince: r.requestedAt,
    ...(r.avoidNode === null ? {} : { avoidNodeId: r.avoidNode }),
    ...(r.seq === null ? {} : { sequence: r.seq }),
    ...(r.shardSpec ? { shard: r.shardSpec } : {}),
    ...(expected === undefined
      ? {}
      : {
          expectedSeconds: expected.seconds,
          expectedSource: expected.source,
          ...(expected.samples === undefined ? {} : { expectedSamples: expected.samples }),
        }),
  };
}

/**
 * When an active reservation is expected to release: its start (when it started; else when its capacity
 * became its own: its promotion for a successor, its grant for the others) + its expected run time
 * (declared, else learned: {@link expectedRun}), stretched by its CPU share when reduced — and no sooner than
 * `now` + that run time for one granted but not started yet; undefined when either is unknown. An end already
 * past (an overrun) is left as it is: the core counts it as "now" (`runningReleases`), for a learned time as
 * for a declared one.
 */
function expectedEndAt(r: ReservationRecord, now: Date): Date | undefined {
  const expected = expectedRun(r);
  const since = r.startedAt ?? r.promotedAt ?? r.grantedAt;
  if (expected === undefined || since === null) return undefined;
  const seconds = expectedRunSeconds(expected.seconds, r.granted ?? r.desired, r.desired);
  const from = r.state === 'granted' ? Math.max(since.getTime(), now.getTime()) : since.getTime();
  return new Date(from + seconds * 1000);
}

/** The keys of the held reservations that a successor waits behind (their capacity is promised to it). */
export function followedKeys(active: readonly ReservationRecord[]): Set<string> {
  return new Set(active.flatMap((r) => (r.behind === null ? [] : [r.behind])));
}

/**
 * Maps a ledger snapshot onto the pure core's {@link ClusterSnapshot}: node capacity, grants, staleness and
 * their published forecast; pools; pending requests with importance = declared + active boosts and their
 * expected run time (declared, else learned from the stage key's history, marked `expectedSource`) and
 * arrival sequence; active grants with their expected end (for backfill and start
 * estimates); the previous cycle's holders when given (stable holds).
 * @param maxForecastAgeMs forecasts older than this are ignored (the node's monitor stopped). @default 30000
 */
export function toClusterSnapshot(
  snapshot: LedgerSnapshot,
  maxForecastAgeMs = 30_000,
  holders?: readonly string[],
): ClusterSnapshot {
  const boosts = boostTotals(snapshot);
  const followed = followedKeys(snapshot.active);
  return {
    ...(holders === undefined ? {} : { holders }),
    nodes: snapshot.nodes.map((n) => {
      const forecast = forecastUsage(n.forecast, n.usageAt, snapshot.now, maxForecastAgeMs);
      return {
        id: n.id,
        taskQueue: n.taskQueue,
        capacity: n.capacity,
        granted: n.granted,
        // An overcommitted node (re-registered below its grants) takes nothing new until its grants fit.
        stale: n.stale || n.overcommitted === true,
        ...(forecast ? { forecastUsage: forecast } : {}),
      };
    }),
    pools: snapshot.pools.map((p) => ({ name: p.name, capacity: p.capacity, granted: p.granted })),
    pending: snapshot.pending.map((r) => pendingRequest(r, boosts)),
    // A successor behind another holds nothing of its own yet (its capacity is its predecessor's): left out.
    // A followed predecessor's capacity is promised to its successor: no projection counts on its release.
    running: snapshot.active
      .filter((r) => r.nodeId !== null && r.granted !== null && r.behind === null)
      .map((r) => {
        const endAt = followed.has(r.key) ? undefined : expectedEndAt(r, snapshot.now);
        return {
          key: r.key,
          nodeId: r.nodeId as string,
          granted: r.granted as Record<string, number>,
          minimum: r.minimum,
          desired: r.desired,
          priority: r.priority,
          importance: r.importance + boostFor(r.workflowId, boosts),
          ...(endAt === undefined
            ? {}
            : { expectedEndAt: endAt, expectedSource: expectedRun(r)?.source ?? 'declared' }),
        };
      }),
  };
}

/**
 * The ends of successor chains, as grants the successor pass ({@link assignSuccessors}) may grant behind: each
 * successor that no other follows yet, with its projected end — its predecessor's (chain's) expected end plus
 * its own expected run time, so a chain behind a stage that overran stays in the past and is not extended —
 * left out when any link's run time is unknown. Its `granted` is what it will hold.
 */
export function successorTails(snapshot: LedgerSnapshot): RunningGrant[] {
  const byKey = new Map(snapshot.active.map((r) => [r.key, r]));
  const followed = followedKeys(snapshot.active);
  const ends = new Map<string, number | undefined>();
  const endOf = (r: ReservationRecord, depth: number): number | undefined => {
    if (ends.has(r.key)) return ends.get(r.key);
    let end: number | undefined;
    const predecessor = r.behind === null ? undefined : byKey.get(r.behind);
    if (r.behind === null) end = expectedEndAt(r, snapshot.now)?.getTime();
    else if (predecessor !== undefined && depth < byKey.size) {
      const before = endOf(predecessor, depth + 1);
      const run = expectedRun(r);
      if (before !== undefined && run !== undefined)
        end = before + expectedRunSeconds(run.seconds, r.granted ?? r.desired, r.desired) * 1000;
    }
    ends.set(r.key, end);
    return end;
  };
  const tails: RunningGrant[] = [];
  for (const r of snapshot.active) {
    if (r.behind === null || followed.has(r.key) || r.nodeId === null || r.granted === null) continue;
    const end = endOf(r, 0);
    tails.push({
      key: r.key,
      nodeId: r.nodeId,
      granted: r.granted,
      minimum: r.minimum,
      desired: r.desired,
      priority: r.priority,
      importance: r.importance,
      ...(end === undefined ? {} : { expectedEndAt: new Date(end) }),
    });
  }
  return tails;
}

/** A cycle's result after malformed rows were left out. */
export interface IsolatedCycle<T> {
  /** What the cycle returned on the rows that remained. */
  result: T;
  /** Each row left out, with the core's reason (`pending[3].minimum.cpu: …`). */
  dropped: string[];
}

const DROPPABLE = /^(pending|nodes|running|pools)\[(\d+)\]/;

/**
 * Runs `cycle` on `cluster`; when the core rejects the snapshot because of one row (its
 * `InvalidSnapshotError` path names it: `pending[3].…`, `nodes[0].…`, `running[2].…`, `pools[1].…`), that
 * row is left out and the cycle runs again on the rest, so one malformed row never stops admission. At
 * most `maxDrops` rows are dropped per call.
 * @throws whatever `cycle` throws that names no single row, or after `maxDrops` drops.
 */
export function isolateBadRows<T>(
  cluster: ClusterSnapshot,
  cycle: (cluster: ClusterSnapshot) => T,
  maxDrops = 20,
): IsolatedCycle<T> {
  const dropped: string[] = [];
  let current = cluster;
  for (;;) {
    try {
      return { result: cycle(current), dropped };
    } catch (err) {
      const e = err as { name?: string; path?: string; message?: string };
      const m =
        e.name === 'InvalidSnapshotError' && typeof e.path === 'string' ? DROPPABLE.exec(e.path) : null;
      if (m === null || dropped.length >= maxDrops) throw err;
      const list = m[1] as 'pending' | 'nodes' | 'running' | 'pools';
      const index = Number(m[2]);
      const rows = current[list] as readonly unknown[];
      if (index >= rows.length) throw err;
      dropped.push(e.message ?? `${list}[${index}]`);
      current = { ...current, [list]: rows.filter((_, i) => i !== index) };
    }
  }
}
