/**
 * `npm run bench -- scheduler [--quick]`: the pure scheduling cycle (`runCycle`) on synthetic clusters —
 * 1k, 10k and 100k pending requests on 10, 100 and 1,000 nodes — reporting decisions per second and p50/p99
 * cycle time over several repetitions, and how cost grows with the pending count against n log n; then the
 * steady state of the incremental core next to the full rebuild (`scheduler-steady.ts`).
 */
import os from 'node:os';
import { runCycle } from '../src/scheduling/cycle';
import { markdownTable, percentile, writeBenchSection } from './report';
import { steadySection } from './scheduler-steady';
import { NOW, syntheticSnapshot } from './synthetic-cluster';

interface Row {
  pending: number;
  nodes: number;
  reps: number;
  /** Wall-clock ms per cycle. */
  times: number[];
  /** CPU ms per cycle (this process, all threads: the cycle plus its share of GC, without neighbours' time). */
  cpuTimes: number[];
  grants: number;
}

/** `global.gc` when node runs with `--expose-gc` (the `bench` script does). */
const collect = (globalThis as { gc?: () => void }).gc;

function measure(pending: number, nodes: number, budgetMs: number, maxReps: number): Row {
  const snapshot = syntheticSnapshot(pending, nodes);
  // Start each size on a clean heap so one size's garbage is not collected during the next one's cycles,
  // then warm up (JIT, and the young generation regrowing after the collection), not counted.
  collect?.();
  for (let i = 0; i < (pending >= 100_000 ? 2 : 5); i++) runCycle(snapshot, NOW);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let grants = 0;
  const start = performance.now();
  while (times.length < maxReps && (times.length < 3 || performance.now() - start < budgetMs)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = runCycle(snapshot, NOW);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
    grants = out.decisions.filter((d) => d.kind !== 'wait').length;
  }
  return { pending, nodes, reps: times.length, times, cpuTimes, grants };
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);

/** Runs the benchmark and writes the `scheduler` section of BENCHMARKS.md. */
export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const loadBefore = os.loadavg()[0] ?? 0;
  const pendings = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const nodeCounts = [10, 100, 1_000];
  const rows: Row[] = [];
  for (const nodes of nodeCounts) {
    for (const pending of pendings) {
      const row = measure(pending, nodes, pending >= 100_000 ? 6_000 : 4_000, pending >= 100_000 ? 5 : 100);
      rows.push(row);
      process.stderr.write(
        `[scheduler] ${pending} pending × ${nodes} nodes: p99 ${fmt(percentile(row.times, 99))} ms over ${row.reps}\n`,
      );
      await new Promise((r) => setImmediate(r));
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const table = markdownTable(
    [
      'pending',
      'nodes',
      'reps',
      'grants+shards',
      'p50 ms',
      'p99 ms',
      'CPU p50 ms',
      'CPU p99 ms',
      'decisions/s',
    ],
    rows.map((r) => [
      r.pending.toLocaleString('en-US'),
      r.nodes.toLocaleString('en-US'),
      r.reps,
      r.grants,
      fmt(percentile(r.times, 50)),
      fmt(percentile(r.times, 99)),
      fmt(percentile(r.cpuTimes, 50)),
      fmt(percentile(r.cpuTimes, 99)),
      Math.round(r.pending / (mean(r.times) / 1000)).toLocaleString('en-US'),
    ]),
  );
  const growth: Array<Array<string | number>> = [];
  for (const nodes of nodeCounts) {
    const at = (p: number): Row | undefined => rows.find((r) => r.nodes === nodes && r.pending === p);
    for (let i = 1; i < pendings.length; i++) {
      const a = at(pendings[i - 1] as number);
      const b = at(pendings[i] as number);
      if (a === undefined || b === undefined) continue;
      const ratio = percentile(b.times, 50) / percentile(a.times, 50);
      const nlogn = (b.pending * Math.log(b.pending)) / (a.pending * Math.log(a.pending));
      growth.push([
        nodes,
        `${a.pending.toLocaleString('en-US')} → ${b.pending.toLocaleString('en-US')}`,
        fmt(ratio, 2),
        fmt(nlogn, 2),
        ratio <= nlogn ? 'yes' : 'no',
      ]);
    }
  }
  const steady = await steadySection(pendings, nodeCounts);
  const target = rows.find((r) => r.pending === 10_000 && r.nodes === 100);
  const targetLine =
    target === undefined
      ? ''
      : `Target at 10k pending on 100 nodes: ≥ 500 decisions/s and p99 ≤ 50 ms — measured ` +
        `${Math.round(target.pending / (mean(target.times) / 1000)).toLocaleString('en-US')} decisions/s, p99 ` +
        `${fmt(percentile(target.times, 99))} ms wall clock (${
          target.pending / (mean(target.times) / 1000) >= 500 && percentile(target.times, 99) <= 50
            ? 'met'
            : 'NOT met'
        }; CPU time p99 ${fmt(percentile(target.cpuTimes, 99))} ms).`;
  writeBenchSection(
    'scheduler',
    'Scheduler core',
    [
      'The pure cycle (`runCycle`: validate + score + order + place/negotiate/shard/hold, one decision per',
      'pending request) on synthetic clusters (`bench/scheduler.ts`, seeded): nodes of 8–32 cores / 16–64 GiB,',
      'a quarter half-granted, a third with forecasts, 2 % stale; requests of 1–8 cores / 1–16 GiB, a third',
      'with minimum = desired/2, 10 % shardable, 5 % on a 50-slot pool. Repeated',
      'cycles (3–100 reps within a time budget; 5 at 100k), each size on a freshly collected heap and after 2–5',
      'untimed warm-up cycles. Decisions/s =',
      "pending ÷ mean wall time. CPU ms is the process's CPU time per cycle (all threads, so GC included; time",
      'taken by other processes on the machine excluded).',
      `1-minute load average ${fmt(loadBefore, 2)} before and ${fmt(os.loadavg()[0] ?? 0, 2)} after the run on ` +
        `${os.cpus().length} cores: other work shared the machine, so p99 includes its interference.`,
      '',
      table,
      '',
      targetLine,
      '',
      'Growth of the p50 cycle time with the pending count, against n log n:',
      '',
      markdownTable(['nodes', 'pending', 'time ratio', 'n log n ratio', 'within n log n'], growth),
      '',
      steady,
    ].join('\n'),
  );
}
