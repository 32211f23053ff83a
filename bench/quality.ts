/**
 * `npm run bench -- quality [--html FILE]`: schedule quality of the production scheduling core against FIFO
 * and strict priority, on the simulator. Three committed workloads (`bench/workloads/`: 1.5× and 3×
 * overload with mixed priorities and stage sizes, and 1.5× with background load on half the nodes), each run
 * under every policy in one command: `quartermaster` with the default config, `quartermaster` with
 * `ageSaturationSeconds: 3600` (starvation bound 3,420 s), `firstfit` and `priority`. Writes the tables and the
 * ratios against the targets of issue 7 into BENCHMARKS.md; `--html FILE` also writes the execution report
 * (`src/report`: every policy side by side) of the 3× workload.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/services/project-root';
import {
  computeMetrics,
  loadWorkloadFile,
  renderHtmlReport,
  simulate,
  type SimulateOptions,
  type SimulationMetrics,
  type SimulationTrace,
} from '../src/simulator';
import { markdownTable, writeBenchSection } from './report';

interface Variant {
  readonly label: string;
  readonly options: SimulateOptions;
}

const VARIANTS: readonly Variant[] = [
  { label: 'quartermaster (defaults: ageSaturationSeconds 3600)', options: { policy: 'quartermaster' } },
  {
    label: 'quartermaster (old default: ageSaturationSeconds 600)',
    options: { policy: 'quartermaster', scheduler: { ageSaturationSeconds: 600 } },
  },
  // "FIFO with skip": ready order, first fit (named `fifo` before issue 15, which made `fifo` strict).
  { label: 'firstfit', options: { policy: 'firstfit' } },
  { label: 'priority', options: { policy: 'priority' } },
];

const WORKLOADS = [
  { file: 'overload-1.5x.json', title: '1.5× overload' },
  { file: 'overload-3x.json', title: '3× overload' },
  { file: 'background-1.5x.json', title: '1.5× overload, background load on half the nodes' },
];

function s(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : '—';
}

function row(label: string, m: SimulationMetrics, ms: number): Array<string | number> {
  const w = m.waitSeconds;
  return [
    label,
    s(w.byBand.high.p95),
    s(w.byBand.mid.p95),
    s(w.byBand.low.p95),
    s(w.byPriority['1']?.max ?? 0),
    s(m.weightedCompletionSeconds),
    s(m.makespanSeconds),
    (m.utilization.cpu ?? 0).toFixed(3),
    `${m.reducedGrants} / ${m.shards} / ${m.degradations}`,
    m.overcommitEvents,
    `${s(m.waitEstimate.meanAbsErrorSeconds)} (${m.waitEstimate.count})`,
    m.starvationBoundSeconds === null ? '∞' : s(m.starvationBoundSeconds),
    ms,
  ];
}

/** Runs the benchmark; `args`: `--html FILE` to write the 3× report. */
export async function run(args: string[]): Promise<void> {
  const htmlAt = args.indexOf('--html');
  const html = htmlAt >= 0 ? args[htmlAt + 1] : undefined;
  const dir = path.join(projectRoot(), 'bench', 'workloads');
  const sections: string[] = [];
  const summary: string[] = [];
  for (const { file, title } of WORKLOADS) {
    const workload = loadWorkloadFile(path.join(dir, file));
    const results: Array<{ v: Variant; m: SimulationMetrics; trace: SimulationTrace; ms: number }> = [];
    for (const v of VARIANTS) {
      const t0 = performance.now();
      const trace = simulate(workload, v.options);
      const ms = Math.round(performance.now() - t0);
      results.push({ v, m: computeMetrics(trace), trace, ms });
      process.stderr.write(`[quality] ${file} ${v.label}: ${ms} ms\n`);
    }
    const stages = results[0]?.trace.stages.length ?? 0;
    sections.push(
      `### ${title} (\`${file}\`: ${workload.submissions.length} pipelines, ${stages} stages, ` +
        `${workload.cluster.nodes.length} nodes)\n\n` +
        markdownTable(
          [
            'policy',
            'p95 wait 8–10 (s)',
            'p95 wait 4–7 (s)',
            'p95 wait 1–3 (s)',
            'max wait p1 (s)',
            'priority-weighted completion (s)',
            'makespan (s)',
            'cpu utilisation while backlogged',
            'reduced / shards / shrinks',
            'overcommit',
            'start-estimate MAE (s) (stages)',
            'starvation bound (s)',
            'sim time (ms)',
          ],
          results.map((r) => row(r.v.label, r.m, r.ms)),
        ),
    );
    const fifo = results.find((r) => r.v.label === 'firstfit')?.m;
    if (fifo !== undefined) {
      for (const r of results.filter((x) => x.v.options.policy === 'quartermaster')) {
        const hi = r.m.waitSeconds.byBand.high.p95;
        const wc = r.m.weightedCompletionSeconds;
        const p1 = r.m.waitSeconds.byPriority['1']?.max ?? 0;
        const bound = r.m.starvationBoundSeconds;
        summary.push(
          `| ${title} | ${r.v.label} | ${ratio(hi, fifo.waitSeconds.byBand.high.p95)}${hi <= 0.25 * fifo.waitSeconds.byBand.high.p95 ? ' ✓' : ' ✗'} ` +
            `| ${ratio(wc, fifo.weightedCompletionSeconds)}${wc <= 0.75 * fifo.weightedCompletionSeconds ? ' ✓' : ' ✗'} ` +
            `| ${(r.m.utilization.cpu ?? 0).toFixed(3)}${(r.m.utilization.cpu ?? 0) >= 0.9 ? ' ✓' : ' ✗'} ` +
            `| ${s(p1)} vs ${bound === null ? '∞' : s(bound)}${bound !== null && p1 <= bound ? ' ✓' : ' ✗'} |`,
        );
      }
    }
    if (html !== undefined && file === 'overload-3x.json') {
      writeFileSync(
        html,
        renderHtmlReport(
          results
            .filter((r) => r.v.label !== 'quartermaster (old default: ageSaturationSeconds 600)')
            .map((r) => r.trace),
          'Schedule quality, 3× overload (quartermaster with its defaults)',
        ),
      );
      process.stderr.write(`[quality] HTML report written to ${html}\n`);
    }
  }
  const body = `Each workload runs under every policy in one command, on the simulator (\`src/simulator/\`): the production \`runCycle\`, \`degrade\`, shard planner and \`estimateStarts\` on a virtual clock (scheduler tick 5 s, background sampled at 1 s through the production forecaster, planning on its +10 s upper band). Workloads are generated by \`generateWorkload\` (seeded): 4 nodes × 16 cores, a \`db-connections\` pool of 8, pipelines of three kinds (ETL chain with a shardable 8-core transform; a 16-core training stage accepting 8; 1-core reports), priorities 20 % 8–10, 40 % 4–7, 40 % 1–3, arriving over 1,200 s. \`firstfit\` (called \`fifo\` before issue 15) and \`priority\` are configurations of the same cycle: ready order or strict priority order, first fit, no holds, no reduced grants, no sharding, no shrinking. Wait = stage ready → stage (or first shard) started. Utilisation = granted ÷ capacity averaged over the time a backlog exists (background load is not counted as granted).

${sections.join('\n\n')}

### Against the targets (ratios to FIFO on the same workload)

| workload | configuration | p95 wait 8–10 ÷ FIFO (≤ 0.25) | weighted completion ÷ FIFO (≤ 0.75) | cpu utilisation (≥ 0.9) | p1 max wait vs starvation bound (s) |
| --- | --- | --- | --- | --- | --- |
${summary.join('\n')}

Reading: with background load, granted ÷ capacity cannot reach 1: about a tenth of the cluster's cores are busy with load the scheduler did not start (up to 40 % of every other node), which the forecaster's upper band (plus the safety margin) keeps free; the 0.9 target is for the 3× workload. The old default aging (\`ageSaturationSeconds\` 600, starvation bound 570 s) was shorter than the waits a 3× overload builds, so after ~10 minutes everything old outranked fresh high-priority work and the order degenerated towards FIFO; with the new default \`ageSaturationSeconds: 3600\` (bound 3,420 s) the targets are met at 3× while priority-1 work still has a finite bound (strict priority has none). The starvation bound is a *ranking* bound (after T* a stage outranks every fresh stage); its actual wait can exceed T* by the time stages that are older still, and the capacity it needs, take to clear. Backfill: the generated workloads tell the scheduler each stage's true run time (\`expectedSeconds\` defaults to \`durations\`), so lower-ranked stages that finish before the held-for stage can start use its held capacity (EASY backfill); with it, utilisation while backlogged rose from 0.975 / 0.979 / 0.867 to the figures above in the same workloads (this run against the last one without backfill). The simulator-vs-reality check is its own section below.`;
  writeBenchSection('quality', 'Schedule quality', body);
  await Promise.resolve();
}
