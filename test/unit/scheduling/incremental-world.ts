/**
 * A random world for the incremental core's equivalence test: a small cluster whose state changes by random
 * events (arrivals, grants committed, releases, cancellations, boosts, capacity, forecast and staleness
 * changes, time passing), kept both as a full snapshot (for `runCycle`) and as the delta since the last
 * cycle (for `IncrementalCycle`). Seeded: a failing sequence reproduces from its seed.
 */
import type {
  ClusterSnapshot,
  CycleResult,
  NodeView,
  PendingRequest,
  PoolView,
  ResourceVector,
  RunningGrant,
} from '../../../src/scheduling';
import type { CycleDelta } from '../../../src/scheduling/incremental-types';
import { seededRandom } from '../../../src/simulator/seeded-random';

/** A random world. */
export class World {
  readonly rand: () => number;
  nowMs = Date.UTC(2026, 0, 1);
  nodes: NodeView[] = [];
  pools: PoolView[] = [];
  readonly pending = new Map<string, PendingRequest>();
  running: RunningGrant[] = [];
  holders: string[] = [];
  private serial = 0;
  private delta: {
    nodes?: NodeView[];
    pools?: PoolView[];
    remove: string[];
    update: PendingRequest[];
    add: PendingRequest[];
    runningEnded: string[];
    running: RunningGrant[];
    holders?: string[];
  } = { remove: [], update: [], add: [], runningEnded: [], running: [] };
  /** Priorities drawn from (a few values make ties likely). */
  private readonly priorities: number[] = [];
  private readonly shapes: Array<{ desired: ResourceVector; minimum: ResourceVector }> = [];

  /**
   * @param seed - PRNG seed
   * @param backfill - an EASY-like world instead of a mixed one: one or two uniform nodes without forecasts,
   *   wide and narrow requests with known run times, grants with known ends: holds and backfill every cycle
   */
  constructor(
    seed: number,
    readonly backfill = false,
  ) {
    this.rand = seededRandom(seed);
    if (backfill) {
      this.priorities = this.chance(0.5) ? [5] : [3, 5, 8];
      for (let i = 0; i < 1 + this.int(2); i++)
        this.nodes.push({
          id: `n${i}`,
          taskQueue: `qm-n${i}`,
          capacity: { cpu: 16, memoryMb: 65536 },
          granted: {},
          stale: false,
        });
      this.shapes = [16, 8, 4, 2, 1, 1].map((cpu) => {
        const desired = { cpu, memoryMb: 1024 * cpu };
        return { desired, minimum: this.chance(0.2) ? { cpu: cpu / 2, memoryMb: 1024 * cpu } : desired };
      });
      this.delta.nodes = this.nodes;
      this.delta.pools = this.pools;
      return;
    }
    this.priorities.push(
      ...(this.chance(0.5) ? [5] : this.chance(0.5) ? [4, 5, 6] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    );
    const usePools = this.chance(0.5);
    const nodeCount = 1 + this.int(4);
    for (let i = 0; i < nodeCount; i++) {
      const cpu = this.pick([2, 4, 8, 16]);
      this.nodes.push({
        id: `n${i}`,
        taskQueue: `qm-n${i}`,
        capacity: { cpu, memoryMb: 1024 * this.pick([4, 8, 16]), ...(this.chance(0.3) ? { gpu: 2 } : {}) },
        granted: {},
        stale: this.chance(0.1),
        ...(this.chance(0.3) ? { forecastUsage: { cpu: { value: cpu * 0.2, upper: cpu * 0.3 } } } : {}),
      });
    }
    if (usePools) this.pools.push({ name: 'lic', capacity: 2 + this.int(4), granted: 0 });
    // A small and a wide shape in most worlds (wide requests hold, small short ones backfill), then random.
    const shapeCount = 1 + this.int(5);
    for (let i = 0; i < shapeCount; i++) {
      const cpu =
        i === 0 && shapeCount > 1
          ? this.pick([0.5, 1])
          : i === 1
            ? this.pick([8, 16])
            : this.pick([0.5, 1, 2, 3, 4, 8, 16, 32]);
      const desired: ResourceVector = { cpu, memoryMb: 512 * (1 + this.int(8)) };
      if (usePools && this.chance(0.3)) desired.lic = 1;
      if (this.chance(0.1)) desired.gpu = 1;
      if (this.chance(0.05)) desired.extra = 1; // a custom resource without a pool: never fits
      const minimum = this.chance(0.4) ? { cpu: cpu / 2, memoryMb: desired.memoryMb ?? 0 } : desired;
      this.shapes.push({ desired, minimum });
    }
    this.delta.nodes = this.nodes;
    this.delta.pools = this.pools;
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  /** A new request arriving now (or, sometimes, with an older or equal ready time). */
  arrive(): void {
    const shape = this.pick(this.shapes);
    const k = this.serial++;
    // Whole seconds, with deliberate ties: the same instant, or 200 s apart (one priority step of the
    // default weights' age term at saturation 3600 s: exact ties between different priorities).
    const back = this.backfill ? this.pick([0, 0, 1]) : this.pick([0, 0, 0, 1, 200, 400, 3600, 7200, 30]);
    const r: PendingRequest = {
      key: `r${k}`,
      workflowId: `w${k % 5}`,
      stageId: `s${k}`,
      shardIndex: null,
      priority: this.pick(this.priorities),
      importance: this.pick([0, 0, 0, 0.5, 2]),
      desired: shape.desired,
      minimum: shape.minimum,
      readySince: new Date(Math.floor(this.nowMs / 1000) * 1000 - back * 1000),
      ...(this.chance(0.8) ? { sequence: this.chance(0.1) ? 0 : k } : {}),
      ...(this.chance(this.backfill ? 0.95 : 0.8)
        ? { expectedSeconds: this.pick([0, 5, 30, 60, 120, 600, 3600, 20000]) }
        : {}),
      ...(!this.backfill && this.chance(0.15)
        ? {
            shard: {
              maxShards: 1 + this.int(4),
              ...(this.chance(0.6) ? { itemCount: this.int(12) } : {}),
              ...(this.chance(0.3) ? { minItemsPerShard: 1 + this.int(3) } : {}),
              ...(this.chance(0.3) ? { perShardFloor: { cpu: 0.5 } } : {}),
            },
          }
        : {}),
      ...(this.chance(0.1) ? { avoidNodeId: this.pick(this.nodes).id } : {}),
    };
    this.pending.set(r.key, r);
    this.delta.add.push(r);
  }

  private removePending(key: string): void {
    this.pending.delete(key);
    const added = this.delta.add.findIndex((r) => r.key === key);
    if (added >= 0) this.delta.add.splice(added, 1);
    else {
      const updated = this.delta.update.findIndex((r) => r.key === key);
      if (updated >= 0) this.delta.update.splice(updated, 1);
      this.delta.remove.push(key);
    }
  }

  private replacePending(r: PendingRequest): void {
    this.pending.set(r.key, r);
    const added = this.delta.add.findIndex((x) => x.key === r.key);
    if (added >= 0) this.delta.add[added] = r;
    else {
      const updated = this.delta.update.findIndex((x) => x.key === r.key);
      if (updated >= 0) this.delta.update[updated] = r;
      else this.delta.update.push(r);
    }
  }

  private addGranted(nodeId: string, v: ResourceVector, sign: number): void {
    this.nodes = this.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const granted: ResourceVector = { ...n.granted };
      for (const [r, x] of Object.entries(v))
        if (n.capacity[r] !== undefined) granted[r] = Math.max(0, (granted[r] ?? 0) + sign * x);
      return { ...n, granted };
    });
    this.pools = this.pools.map((p) => ({ ...p, granted: Math.max(0, p.granted + sign * (v[p.name] ?? 0)) }));
    this.delta.nodes = this.nodes;
    this.delta.pools = this.pools;
  }

  private upsertRunning(g: RunningGrant): void {
    const i = this.running.findIndex((x) => x.key === g.key);
    if (i >= 0) this.running[i] = g;
    else this.running.push(g);
    this.delta.running.push(g);
  }

  /** Commits a cycle's decisions as the ledger would (grants start, shards request on their own). */
  commit(result: CycleResult): void {
    for (const d of result.decisions) {
      const r = this.pending.get(d.key);
      if (r === undefined || d.kind === 'wait') continue;
      this.removePending(d.key);
      if (d.kind === 'grant') {
        this.addGranted(d.nodeId, d.granted, 1);
        this.upsertRunning({
          key: d.key,
          nodeId: d.nodeId,
          granted: d.granted,
          minimum: r.minimum,
          desired: r.desired,
          priority: r.priority,
          importance: r.importance,
          ...(r.expectedSeconds === undefined || this.chance(0.05)
            ? {}
            : {
                expectedEndAt: new Date(this.nowMs + r.expectedSeconds * 1000 + this.pick([0, -5000, 3000])),
              }),
        });
      } else {
        for (let i = 0; i < Math.min(d.shardCount, 6); i++) {
          const s: PendingRequest = {
            ...r,
            key: `${r.key}#${i}`,
            shardIndex: i,
            desired: d.perShard,
            minimum: d.perShard,
          };
          delete (s as { shard?: unknown }).shard;
          this.pending.set(s.key, s);
          this.delta.add.push(s);
        }
      }
    }
    this.holders = result.holds.map((h) => h.key);
    this.delta.holders = this.holders;
  }

  /** Ends the running grants expected to have ended by now (most of them), as a simulator would. */
  private endDue(): void {
    for (const g of [...this.running]) {
      if (g.expectedEndAt !== undefined && g.expectedEndAt.getTime() <= this.nowMs && this.chance(0.8))
        this.end(g);
    }
  }

  private end(g: RunningGrant): void {
    this.running = this.running.filter((x) => x !== g);
    this.delta.running = this.delta.running.filter((x) => x.key !== g.key);
    this.delta.runningEnded.push(g.key);
    if (this.nodes.some((n) => n.id === g.nodeId)) this.addGranted(g.nodeId, g.granted, -1);
  }

  /** Random events between two cycles. */
  churn(): void {
    this.endDue();
    if (this.backfill) for (let i = this.int(3); i > 0; i--) this.arrive();
    const events = this.int(7);
    for (let e = 0; e < events; e++) {
      const u = this.rand();
      if (u < 0.35) this.arrive();
      else if (u < 0.5 && this.running.length > 0) this.end(this.pick(this.running));
      else if (u < 0.62 && this.pending.size > 0) {
        this.removePending(this.pick([...this.pending.keys()]));
      } else if (u < 0.72 && this.pending.size > 0) {
        const r = this.pick([...this.pending.values()]);
        this.replacePending({ ...r, importance: this.pick([0, 1, 4, 10]) });
      } else if (u < 0.78) {
        const i = this.int(this.nodes.length);
        this.nodes = this.nodes.map((n, j) => (j === i ? { ...n, stale: !n.stale } : n));
        this.delta.nodes = this.nodes;
      } else if (u < 0.84) {
        const i = this.int(this.nodes.length);
        this.nodes = this.nodes.map((n, j) => {
          if (j !== i) return n;
          const cpu = n.capacity.cpu ?? 0;
          const load = this.rand() * cpu;
          return this.chance(0.3)
            ? { id: n.id, taskQueue: n.taskQueue, capacity: n.capacity, granted: n.granted, stale: n.stale }
            : { ...n, forecastUsage: { cpu: { value: load, upper: load * 1.2 } } };
        });
        this.delta.nodes = this.nodes;
      } else if (u < 0.88 && this.running.length > 0) {
        // A running grant's expected end moves (a shrink, a better estimate).
        const g = this.pick(this.running);
        this.upsertRunning({ ...g, expectedEndAt: new Date(this.nowMs + this.int(5000) * 1000) });
      } else if (u < 0.92) {
        this.holders = this.chance(0.5) ? [] : [this.pick([...this.pending.keys(), 'gone'])];
        this.delta.holders = this.holders;
      } else if (u < 0.95 && this.pools.length > 0) {
        this.pools = this.pools.map((p) => ({
          ...p,
          capacity: Math.max(1, p.capacity + this.pick([-1, 1])),
        }));
        this.delta.pools = this.pools;
      }
    }
    this.nowMs += this.backfill
      ? this.pick([1000, 5000, 30_000, 60_000, 300_000])
      : this.pick([0, 1000, 5000, 20_000, 60_000, 60_000, 200_000, 600_000, 1_800_000, 3_600_000]);
  }

  /** The full snapshot now. */
  snapshot(): ClusterSnapshot {
    return {
      nodes: this.nodes,
      pools: this.pools,
      pending: [...this.pending.values()],
      running: this.running,
      ...(this.holders.length > 0 ? { holders: this.holders } : {}),
    };
  }

  /** The delta since the last call. */
  takeDelta(): CycleDelta {
    const d = this.delta;
    this.delta = { remove: [], update: [], add: [], runningEnded: [], running: [] };
    return d;
  }
}
