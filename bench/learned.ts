/**
 * `npm run bench -- learned`: schedule quality with declared run times vs learned ones (history warmed up by a
 * first run) vs none, on the simulator, under the quartermaster policy, on the committed 3× and 1.5× overload
 * workloads. Learned estimates come from the ledger's own pure estimator (`learnedSeconds`, through
 * `simulateLearned`), keyed as production keys them (definition name, stage id, handler). Writes the table
 * into BENCHMARKS.md.
 */
import path from 'node:path';
import type { ExecutionRecord } from '../src/execution/record';
import { errorStats, runTimeError } from '../src/report/accuracy';
import { projectRoot } from '../src/services/project-root';
import {
  computeMetrics,
  loadWorkloadFile,
  simulate,
  simulateLearned,
  toExecutionRecords,
  type SimulationMetrics,
  type SimulationTrace,
  type Workload,
} from '../src/simulator';
import { seededRandom } from '../src/simulator/seeded-random';
import { markdownTable, writeBenchSection } from './report';

const WORKLOADS = [
  { file: 'overload-3x.json', title: '3× overload', noisy: false },
  { file: 'overload-3x.json', title: '3× overload, run times ×U(0.5, 1.5) per run', noisy: true },
  { file: 'overload-1.5x.json', title: '1.5× overload', noisy: false },
];

/** Seed of the run-time noise. */
const NOISE_SEED = 17;

/**
 * The workload with each stage's run time multiplied by a seeded factor drawn from [0.5, 1.5) per stage of
 * each submission; declared run times are each run's own (an oracle: the best a declaration can be).
 */
function noisy(w: Workload): Workload {
  const random = seededRandom(NOISE_SEED);
  return {
    ...w,
    submissions: w.submissions.map((sub) => {
      const durations = Object.fromEntries(
        Object.entries(sub.durations).map(([id, d]) => [id, d * (0.5 + random())]),
      );
      return { ...sub, durations, expectedSeconds: durations };
    }),
  };
}

/**
 * The workload with each pipeline's definition named by its kind (`etl-47` → `etl`): the generator gives
 * every submitted pipeline its own name, which production would key as a definition run once; a real
 * deployment runs a few registered definitions many times. Names do not enter scheduling decisions.
 */
function namedByKind(w: Workload): Workload {
  return {
    ...w,
    submissions: w.submissions.map((s) => ({
      ...s,
      definition: { ...s.definition, name: s.definition.name.replace(/-\d+$/, '') },
    })),
  };
}

interface Row {
  readonly label: string;
  readonly m: SimulationMetrics;
  readonly records: readonly ExecutionRecord[];
  readonly ms: number;
}

function s(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function timed(label: string, fn: () => SimulationTrace): Row {
  const t0 = performance.now();
  const trace = fn();
  const ms = Math.round(performance.now() - t0);
  process.stderr.write(`[learned] ${label}: ${ms} ms\n`);
  return { label, m: computeMetrics(trace), records: toExecutionRecords(trace).records, ms };
}

/** Run-time prediction error over completed records with a prediction: "MAE (n of unsharded runs)". */
function predictionCell(records: readonly ExecutionRecord[]): string {
  const errors = records.map((r) => runTimeError(r)).filter((e): e is number => e !== null);
  const whole = records.filter((r) => r.shardIndex === null && r.nodeId !== null).length;
  const stats = errorStats(errors);
  const predicted = records.filter((r) => r.shardIndex === null && r.predictedSeconds != null).length;
  return stats === null
    ? `— (0 of ${whole})`
    : `${s(stats.meanAbsSeconds)} (bias ${s(stats.meanSeconds)}; ${predicted} of ${whole})`;
}

function row(r: Row): Array<string | number> {
  const w = r.m.waitSeconds.byBand;
  return [
    r.label,
    s(w.high.p95),
    s(w.mid.p95),
    s(w.low.p95),
    (r.m.utilization.cpu ?? 0).toFixed(3),
    (r.m.overallUtilization.cpu ?? 0).toFixed(3),
    s(r.m.makespanSeconds),
    s(r.m.weightedCompletionSeconds),
    `${s(r.m.waitEstimate.meanAbsErrorSeconds)} (${r.m.waitEstimate.count})`,
    predictionCell(r.records),
    r.ms,
  ];
}

/** Runs the benchmark (no arguments). */
export async function run(_args: string[]): Promise<void> {
  const dir = path.join(projectRoot(), 'bench', 'workloads');
  const sections: string[] = [];
  for (const { file, title, noisy: withNoise } of WORKLOADS) {
    const loaded = loadWorkloadFile(path.join(dir, file));
    const raw = withNoise ? noisy(loaded) : loaded;
    const byKind = namedByKind(raw);
    const policy = 'quartermaster';
    const rows: Row[] = [
      timed(`${title} declared`, () => simulate(byKind, { policy, runTimes: 'declared' })),
      timed(`${title} none`, () => simulate(byKind, { policy, runTimes: 'none' })),
      timed(`${title} learned`, () => simulateLearned(byKind, { policy }).trace),
      timed(`${title} learned, names as generated`, () => simulateLearned(raw, { policy }).trace),
    ];
    const labels = [
      "declared (each run's true time)",
      'none',
      'learned (warm-up run; 3 definitions)',
      'learned (warm-up run; each pipeline its own definition)',
    ];
    const declaredRaw = computeMetrics(simulate(raw, { policy, runTimes: 'declared' }));
    const same =
      declaredRaw.makespanSeconds === rows[0]?.m.makespanSeconds &&
      declaredRaw.waitSeconds.all.p95 === rows[0]?.m.waitSeconds.all.p95;
    sections.push(
      `### ${title} (\`${file}\`: ${raw.submissions.length} pipelines, ${raw.cluster.nodes.length} nodes)\n\n` +
        markdownTable(
          [
            'run times',
            'p95 wait 8–10 (s)',
            'p95 wait 4–7 (s)',
            'p95 wait 1–3 (s)',
            'cpu utilisation while backlogged',
            'cpu utilisation overall',
            'makespan (s)',
            'priority-weighted completion (s)',
            'start-estimate MAE (s) (stages)',
            'run-time prediction MAE (s) (predicted of unsharded runs)',
            'sim time (ms)',
          ],
          rows.map((r, i) => row({ ...r, label: labels[i] ?? r.label })),
        ) +
        `\n\nNaming the definitions by kind changes no decision: declared run times give ${same ? 'the same' : 'DIFFERENT'} makespan and p95 wait with the generated names.`,
    );
  }
  const body = `Quartermaster policy (defaults), simulator as in "Schedule quality". Three sources of the run times the scheduler is told (\`simulate({ runTimes })\`, \`qm simulate --run-times\`):

- **declared**: every stage declares its true run time (\`expectedSeconds\` = its duration): the best case.
- **none**: no stage declares one: no backfill into holds, start estimates only from what is known.
- **learned**: no stage declares one; each request is told its stage key's learned estimate, computed by the ledger's own pure estimator (\`src/execution/learned.ts\`: p90 of the last 50 completed unsharded runs, each normalised to \`desired\` by its CPU share, from 3 runs on), keyed by (definition name, stage id, handler) as production keys it. The history is the records of a warm-up run of the same workload (itself learning from an empty history), then every run the measured simulation completes (an estimate is read when a request is made; a request already waiting keeps the one it was made with).

The committed workloads give every run of a kind the same run time (an ETL extract always takes 60 s), so the p90 of its history is exact; the "×U(0.5, 1.5)" table multiplies each stage's run time by a seeded random factor (seed ${NOISE_SEED}; declared = each run's own time, an oracle no user has), where the learned p90 is pessimistic on purpose.

The generated workloads give every pipeline its own definition name (\`etl-47\`, \`train-148\`…): keyed as production keys it, no stage key runs more than once per run, so no key reaches 3 samples and "learned" degenerates to "none" (last row). The other rows run the workload with each pipeline named by its kind (\`etl\`, \`train\`, \`report\`: three definitions run many times, as in a real deployment). Run-time prediction error = actual run − predicted ÷ CPU share (the ledger's \`qm_estimate_accuracy\` view), over completed runs that had a prediction; shards are told their share of a declared run time and, as in production, never a learned one (the count column counts unsharded runs). Start-estimate MAE = |stage start − the start estimated when it first waited|, over stages that got an estimate.

${sections.join('\n\n')}`;
  writeBenchSection('learned', 'Learned run times', body);
  await Promise.resolve();
}
