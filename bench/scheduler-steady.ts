/**
 * The steady-state part of `npm run bench -- scheduler`: the incremental core (`IncrementalCycle`) next to
 * the full rebuild (`runCycle`) on the same evolving state. A synthetic cluster (see `syntheticSnapshot`)
 * runs one cycle whose grants are committed (they become running grants); then each repetition applies a
 * typical delta — 1 % of the pending count arriving, 1 % of it in running grants ending, one second later —
 * and runs the cycle after it three ways: `runCycle` on the whole snapshot (the full rebuild), the core's
 * full output (`apply` + `run`, every decision and queue row) and its changes-only output (`apply` +
 * `runChanges`: grants, shards, holds). The committed decisions are the changes-only ones; the full outputs
 * are checked equal to `runCycle`'s once per size.
 */
import { runCycle } from '../src/scheduling/cycle';
import { IncrementalCycle } from '../src/scheduling/incremental-cycle';
import type { CycleDelta } from '../src/scheduling/incremental-types';
import type {
  ClusterSnapshot,
  Decision,
  NodeView,
  PendingRequest,
  PoolView,
  ResourceVector,
  RunningGrant,
} from '../src/scheduling/types';
import { markdownTable, percentile } from './report';
import { NOW, rng, syntheticRequest, syntheticSnapshot } from './synthetic-cluster';

/** Milliseconds of each way per repetition. */
export interface SteadyRow {
  readonly pending: number;
  readonly nodes: number;
  /** `runCycle` on the whole snapshot. */
  readonly rebuild: number[];
  /** `apply` + `run` (full output). */
  readonly full: number[];
  /** `apply` + `runChanges`. */
  readonly changes: number[];
  /** CPU ms of `apply` + `run` (this process, GC included, other processes excluded). */
  readonly fullCpu: number[];
  /** CPU ms of `apply` + `runChanges`. */
  readonly changesCpu: number[];
  /** Grants and shards per cycle, mean. */
  readonly decided: number;
  /** Whether the full output equalled `runCycle`'s (checked on the first repetition). */
  readonly equal: boolean;
}

/** The simulated ledger the cycles run against. */
class Ledger {
  nodes: NodeView[];
  pools: PoolView[];
  readonly pending = new Map<string, PendingRequest>();
  readonly running = new Map<string, RunningGrant>();
  private delta: { add: PendingRequest[]; remove: string[]; ended: string[]; running: RunningGrant[] } = {
    add: [],
    remove: [],
    ended: [],
    running: [],
  };

  constructor(snapshot: ClusterSnapshot) {
    this.nodes = [...snapshot.nodes];
    this.pools = [...snapshot.pools];
    for (const r of snapshot.pending) {
      this.pending.set(r.key, r);
      this.delta.add.push(r);
    }
  }

  private grant(nodeId: string, v: Readonly<ResourceVector>, sign: number): void {
    this.nodes = this.nodes.map((n) => {
      if (n.id !== nodeId) return n;
      const granted: ResourceVector = { ...n.granted };
      for (const r of ['cpu', 'memoryMb']) granted[r] = Math.max(0, (granted[r] ?? 0) + sign * (v[r] ?? 0));
      return { ...n, granted };
    });
    this.pools = this.pools.map((p) => ({ ...p, granted: Math.max(0, p.granted + sign * (v[p.name] ?? 0)) }));
  }

  commit(decisions: readonly Decision[]): number {
    let n = 0;
    for (const d of decisions) {
      const r = this.pending.get(d.key);
      if (r === undefined || d.kind === 'wait') continue;
      n++;
      this.pending.delete(d.key);
      this.delta.remove.push(d.key);
      if (d.kind !== 'grant') continue; // a shard order: its shards would ask on their own (left out)
      const g: RunningGrant = {
        key: d.key,
        nodeId: d.nodeId,
        granted: d.granted,
        minimum: r.minimum,
        desired: r.desired,
        priority: r.priority,
        importance: r.importance,
      };
      this.running.set(d.key, g);
      this.delta.running.push(g);
      this.grant(d.nodeId, d.granted, 1);
    }
    return n;
  }

  /** 1 % of `size` arriving and as many running grants ending. */
  churn(r: () => number, size: number, serial: number, now: Date): void {
    const k = Math.max(1, Math.round(size / 100));
    for (let i = 0; i < k; i++) {
      const req = syntheticRequest(r, serial + i, () => now);
      this.pending.set(req.key, req);
      this.delta.add.push(req);
    }
    const keys = [...this.running.keys()];
    for (let i = 0; i < k && keys.length > 0; i++) {
      const key = keys.splice(Math.floor(r() * keys.length), 1)[0] as string;
      const g = this.running.get(key) as RunningGrant;
      this.running.delete(key);
      this.delta.ended.push(key);
      this.grant(g.nodeId, g.granted, -1);
    }
  }

  takeDelta(): CycleDelta {
    const d = this.delta;
    this.delta = { add: [], remove: [], ended: [], running: [] };
    return {
      nodes: this.nodes,
      pools: this.pools,
      add: d.add,
      remove: d.remove,
      runningEnded: d.ended,
      running: d.running,
    };
  }

  snapshot(holders: readonly string[]): ClusterSnapshot {
    return {
      nodes: this.nodes,
      pools: this.pools,
      pending: [...this.pending.values()],
      running: [...this.running.values()],
      ...(holders.length > 0 ? { holders } : {}),
    };
  }
}

/** `global.gc` when node runs with `--expose-gc` (the `bench` script does). */
const collect = (globalThis as { gc?: () => void }).gc;

/**
 * Measures `reps` steady-state cycles at `pending` × `nodes` (after `warm` untimed ones).
 * @returns the times.
 */
export function measureSteady(pending: number, nodes: number, reps: number, warm: number): SteadyRow {
  const ledger = new Ledger(syntheticSnapshot(pending, nodes));
  const r = rng(7);
  const full = new IncrementalCycle();
  const changes = new IncrementalCycle();
  let now = NOW.getTime();
  let delta: CycleDelta = ledger.takeDelta(); // the whole state: absorbed by the warm-up repetitions
  let holders: string[] = [];
  let serial = pending;
  const times = {
    rebuild: [] as number[],
    full: [] as number[],
    changes: [] as number[],
    fullCpu: [] as number[],
    changesCpu: [] as number[],
  };
  const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
  let decided = 0;
  let equal = true;
  collect?.();
  for (let rep = -Math.max(1, warm); rep < reps; rep++) {
    const at = new Date(now);
    const snapshot = ledger.snapshot(holders);
    const t0 = performance.now();
    const reference = runCycle(snapshot, at);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    full.apply(delta);
    const out = full.run(at);
    const fullCpu = cpuMs(process.cpuUsage(c1));
    const t2 = performance.now();
    const c2 = process.cpuUsage();
    changes.apply(delta);
    const result = changes.runChanges(at);
    const changesCpu = cpuMs(process.cpuUsage(c2));
    const t3 = performance.now();
    if (rep === 0) equal = JSON.stringify(out) === JSON.stringify(reference);
    // Commit what the cycle decided; the next delta adds 1 % arriving and 1 % ending, a second later.
    holders = result.holds.map((h) => h.key);
    const n = ledger.commit(result.decisions);
    now += 1000;
    serial += Math.max(1, Math.round(pending / 100));
    ledger.churn(r, pending, serial, new Date(now));
    delta = { ...ledger.takeDelta(), holders };
    if (rep >= 0) {
      times.rebuild.push(t1 - t0);
      times.full.push(t2 - t1);
      times.changes.push(t3 - t2);
      times.fullCpu.push(fullCpu);
      times.changesCpu.push(changesCpu);
      decided += n;
    }
  }
  return { pending, nodes, ...times, decided: decided / reps, equal };
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);

/**
 * Measures the steady state at every size and renders its part of the `scheduler` section: the table,
 * the targets and the growth against n log n.
 */
export async function steadySection(
  pendings: readonly number[],
  nodeCounts: readonly number[],
): Promise<string> {
  const rows: SteadyRow[] = [];
  for (const nodes of nodeCounts) {
    for (const pending of pendings) {
      const row = measureSteady(pending, nodes, pending >= 100_000 ? 5 : pending >= 10_000 ? 30 : 60, 2);
      rows.push(row);
      process.stderr.write(
        `[scheduler] steady ${pending} × ${nodes}: changes p99 ${fmt(percentile(row.changes, 99))} ms, ` +
          `full p99 ${fmt(percentile(row.full, 99))} ms, rebuild p99 ${fmt(percentile(row.rebuild, 99))} ms\n`,
      );
      await new Promise((r) => setImmediate(r));
    }
  }
  const p = (xs: number[], q: number): string => fmt(percentile(xs, q));
  const table = markdownTable(
    [
      'pending',
      'nodes',
      'reps',
      'grants+shards / cycle',
      'rebuild p50 / p99 ms',
      'incremental full p50 / p99 ms (CPU p99)',
      'incremental changes p50 / p99 ms (CPU p99)',
      'rebuild ÷ changes (p50)',
      'full = runCycle',
    ],
    rows.map((r) => [
      r.pending.toLocaleString('en-US'),
      r.nodes.toLocaleString('en-US'),
      r.rebuild.length,
      fmt(r.decided, 0),
      `${p(r.rebuild, 50)} / ${p(r.rebuild, 99)}`,
      `${p(r.full, 50)} / ${p(r.full, 99)} (${p(r.fullCpu, 99)})`,
      `${p(r.changes, 50)} / ${p(r.changes, 99)} (${p(r.changesCpu, 99)})`,
      `${fmt(percentile(r.rebuild, 50) / percentile(r.changes, 50))}×`,
      r.equal ? 'yes' : '**no**',
    ]),
  );
  const verdict = (pending: number, nodes: number, limit: number): string => {
    const r = rows.find((x) => x.pending === pending && x.nodes === nodes);
    if (r === undefined) return `${pending} × ${nodes}: not measured`;
    const say = (label: string, xs: number[]): string =>
      `${label} p99 ${p(xs, 99)} ms (${percentile(xs, 99) <= limit ? 'met' : '**not met**'})`;
    return (
      `${pending.toLocaleString('en-US')} × ${nodes.toLocaleString('en-US')}, target p99 ≤ ${limit} ms: ` +
      `${say('changes-only', r.changes)}; ${say('full output', r.full)}; the rebuild's p99 ${p(r.rebuild, 99)} ms.`
    );
  };
  const growth: Array<Array<string | number>> = [];
  for (const nodes of nodeCounts) {
    const at = (n: number): SteadyRow | undefined => rows.find((r) => r.nodes === nodes && r.pending === n);
    for (let i = 1; i < pendings.length; i++) {
      const a = at(pendings[i - 1] as number);
      const b = at(pendings[i] as number);
      if (a === undefined || b === undefined) continue;
      const nlogn = (b.pending * Math.log(b.pending)) / (a.pending * Math.log(a.pending));
      const changes = percentile(b.changes, 50) / percentile(a.changes, 50);
      const full = percentile(b.full, 50) / percentile(a.full, 50);
      growth.push([
        nodes,
        `${a.pending.toLocaleString('en-US')} → ${b.pending.toLocaleString('en-US')}`,
        fmt(changes, 2),
        fmt(full, 2),
        fmt(nlogn, 2),
        changes <= nlogn && full <= nlogn ? 'yes' : 'no',
      ]);
    }
  }
  return [
    '### Steady state: the incremental core (`IncrementalCycle`) next to the full rebuild',
    '',
    'Each size starts from the synthetic snapshot above, runs one cycle and commits its grants (they become',
    'running grants); then every repetition applies a typical delta — 1 % of the pending count arriving (ready',
    'now), as many running grants ending, one second later, the last holders — and runs the next cycle three',
    'ways on the same state: `runCycle` on the whole snapshot (rebuild), the core’s full output (`apply` +',
    '`run`: every decision and queue row) and its changes-only output (`apply` + `runChanges`: grants, shards',
    'and holds, wait reasons on demand; what the simulator uses). The committed decisions are the changes-only',
    'ones; the full output is checked equal to `runCycle`’s on the first timed repetition (last column).',
    '(`bench/scheduler-steady.ts`; 2 untimed warm-up cycles, the first of which loads the whole state.)',
    '',
    table,
    '',
    `- ${verdict(10_000, 100, 20)}`,
    `- ${verdict(100_000, 1_000, 300)}`,
    '',
    'Growth of the p50 steady-state cycle with the pending count, against n log n:',
    '',
    markdownTable(
      ['nodes', 'pending', 'changes ratio', 'full ratio', 'n log n ratio', 'within n log n'],
      growth,
    ),
  ].join('\n');
}
