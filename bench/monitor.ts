import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateTrace, maeRatio, type TraceEvaluation } from '../src/monitor/evaluate';
import { createForecaster, DEFAULT_MODEL, MODEL_NAMES, type ModelName } from '../src/monitor/forecast/models';
import { Sampler } from '../src/monitor/sampler';
import { readTraceFile, type Trace } from '../src/monitor/trace';
import type { MetricName } from '../src/monitor/types';
import { projectRoot } from '../src/services/project-root';
import { markdownTable, percentile, writeBenchSection } from './report';

/** MAE-ratio targets for the default model per trace and metric; anything not listed must be ≤ 1.0. */
const TARGETS: Record<string, Partial<Record<MetricName, number>>> = {
  ramp: { cpu: 0.8, memoryMb: 0.8 },
  'cpu-periodic': { cpu: 0.8 },
  'memory-ramp': { memoryMb: 0.8 },
  'held-out-periodic': { cpu: 0.8 },
  'held-out-mixed-ramp': { cpu: 0.8, memoryMb: 0.8 },
  'held-out-periodic-quiet': { cpu: 0.8 },
  'held-out-mixed-ramp-quiet': { cpu: 0.8, memoryMb: 0.8 },
};
/**
 * Traces whose file name starts with this were recorded after the default model was chosen and were
 * not used while tuning it; they are checked separately.
 */
const HELD_OUT_PREFIX = 'held-out-';
const HORIZONS = [5, 10];

/** The commentary under the target tables; it states what the numbers show, so keep it in step with them. */
const READING_NOTES = [
  "How to read this: every trace comes from a 2-core VM shared with other engineers' builds and test runs",
  "(and this module's own `tsc`/`jest`), so CPU and memory carry large background load nobody here",
  'generated: real noise, not a lab signal. On CPU it often dominates. In `idle`, `io-burst`,',
  '`memory-ramp` and both held-out traces the CPU jumps between ~0 and the 2-core ceiling as builds start',
  'and stop, and in the held-out traces it sits at the ceiling for most of the 310 s, so the generated',
  'periodic and ramp loads are hardly visible; on such a random walk no model here beats last value',
  '(every model column is ≥ 1.0× on `io-burst` CPU), and the target is met only by luck. Where a',
  'generated load stands out (20 s CPU bursts, 30 s I/O bursts, the memory ramps) the ensemble beats',
  'last value by 20–65 %. The ensemble picks, per horizon, the candidate with the lowest exponentially',
  'discounted MAE (half-life 30 samples) and switches only when another is 15 % better, so on noise it',
  'does not flip between equally good members on a few lucky residuals. `theilSen` (median pairwise slope',
  'continued from the newest sample) follows the clean, linear part of the `ramp` CPU after the',
  "background bursts of its first 85 s, which hold ~70 % of last value's error there — hence `ramp` CPU",
  'still misses 0.8×. `median` is best on spiky disk/network series, `seasonal` on the bursts; `holt` and',
  '`linearTrend` are the worst on spiky series (they extrapolate spikes). The `*-quiet` held-out traces',
  'repeat the two held-out load patterns on a quiet machine (recorded after the model was fixed): there the',
  'driven metrics come out at 0.25–0.46× last value, and the only misses are 1.003× on a memory series that',
  'barely moves (last-value MAE about 1 MiB, the sampling resolution).',
];

/** Seconds of CPU (user + system) this process's waited-for children used, from /proc/self/stat. */
function childCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0]; cutime and cstime are fields 16 and 17 (1-based) → [13], [14].
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

async function samplerCost(
  seconds: number,
): Promise<{ pctOfCore: number; childPct: number; samples: number; wallS: number }> {
  let samples = 0;
  const sampler = new Sampler({ intervalMs: 1000, onSample: () => samples++ });
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const child0 = childCpuSeconds();
  await sampler.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await sampler.stop();
  const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return {
    pctOfCore: (cpuS / wallS) * 100,
    childPct: ((childCpuSeconds() - child0) / wallS) * 100,
    samples,
    wallS,
  };
}

function updateCost(trace: Trace): Array<{ model: ModelName; meanUs: number; p99Us: number }> {
  const values = trace.samples.map((s) => s.cpu ?? 0);
  return MODEL_NAMES.map((model) => {
    const f = createForecaster(model, { windowSize: 120 });
    const times: number[] = [];
    const rounds = Math.ceil(3000 / values.length);
    let t = 0;
    for (let r = 0; r < rounds; r++) {
      for (const v of values) {
        t += 1000;
        const start = process.hrtime.bigint();
        f.update(t, v);
        times.push(Number(process.hrtime.bigint() - start) / 1000);
      }
    }
    const measured = times.slice(200); // skip warm-up (JIT, window filling)
    const meanUs = measured.reduce((a, b) => a + b, 0) / measured.length;
    return { model, meanUs, p99Us: percentile(measured, 99) };
  });
}

const fmt = (v: number | null, digits = 2): string =>
  v === null || Number.isNaN(v) ? '—' : !Number.isFinite(v) ? '∞' : v.toFixed(digits);

function evalTables(results: Array<{ name: string; trace: Trace; ev: TraceEvaluation }>): string {
  const others = MODEL_NAMES.filter((m) => m !== 'lastValue');
  const out: string[] = [];
  for (const h of HORIZONS) {
    const rows: Array<Array<string | number>> = [];
    for (const { name, ev } of results) {
      for (const metric of ev.metrics) {
        const base = ev.models.lastValue?.[metric]?.[String(h)];
        rows.push([
          name,
          metric,
          fmt(base?.mae ?? null, 3),
          ...others.map((m) => {
            const r = fmt(maeRatio(ev, m, metric, h));
            return m === DEFAULT_MODEL ? `**${r}**` : r;
          }),
        ]);
      }
    }
    out.push(
      `**+${h} s** — lastValue MAE (metric's unit) and each model's MAE ÷ lastValue's (lower is better; default model in bold):\n`,
      markdownTable(['trace', 'metric', 'lastValue MAE', ...others.map((m) => `${m} ratio`)], rows),
      '',
    );
  }
  return out.join('\n');
}

function detailTables(results: Array<{ name: string; ev: TraceEvaluation }>): string {
  const out: string[] = [];
  for (const { name, ev } of results) {
    const rows: Array<Array<string | number>> = [];
    for (const metric of ev.metrics) {
      for (const model of MODEL_NAMES) {
        const row: Array<string | number> = [metric, model];
        for (const h of HORIZONS) {
          const s = ev.models[model]?.[metric]?.[String(h)];
          row.push(
            fmt(s?.mae ?? null, 3),
            fmt(s?.rmse ?? null, 3),
            fmt(s?.p90 ?? null, 3),
            fmt((s?.coverage ?? NaN) * 100, 0),
          );
        }
        rows.push(row);
      }
    }
    const header = [
      'metric',
      'model',
      ...HORIZONS.flatMap((h) => [`MAE@${h}`, `RMSE@${h}`, `p90@${h}`, `band%@${h}`]),
    ];
    out.push(
      `<details><summary>${name}: MAE, RMSE, p90 |error| and coverage of the nominal 90 % band</summary>\n`,
      markdownTable(header, rows),
      '\n</details>\n',
    );
  }
  return out.join('\n');
}

/**
 * `npm run bench -- monitor [--sampler-seconds N]`: replays every trace in `test/fixtures/traces/`
 * through every model (MAE/RMSE/p90 at +5 s and +10 s, ratios to lastValue, target check for the
 * default model), measures the sampler's own CPU at 1 Hz over N seconds (default 60) and the
 * per-update cost of each model on a 120-point window, and writes BENCHMARKS.md's `monitor` section.
 * @throws TraceFormatError when a committed trace is malformed
 */
export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--sampler-seconds');
  const samplerSeconds = i >= 0 ? Number(args[i + 1]) : 60;
  const dir = path.join(projectRoot(), 'test/fixtures/traces');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const results: Array<{ name: string; trace: Trace; ev: TraceEvaluation }> = [];
  for (const f of files) {
    const trace = await readTraceFile(path.join(dir, f));
    results.push({ name: f.replace(/\.json$/, ''), trace, ev: evaluateTrace(trace) });
  }

  const targetChecks = (
    subset: typeof results,
  ): { rows: Array<Array<string | number>>; pass: number; allPass: boolean } => {
    const rows: Array<Array<string | number>> = [];
    let pass = 0;
    for (const { name, ev } of subset) {
      for (const metric of ev.metrics) {
        const target = TARGETS[name]?.[metric] ?? 1.0;
        for (const h of HORIZONS) {
          const r = maeRatio(ev, DEFAULT_MODEL, metric, h);
          const ok = r !== null && r <= target;
          if (ok) pass++;
          rows.push([name, metric, `${h} s`, fmt(r, 3), `≤ ${target.toFixed(1)}`, ok ? 'pass' : '**FAIL**']);
        }
      }
    }
    return { rows, pass, allPass: pass === rows.length };
  };
  const tuning = targetChecks(results.filter((r) => !r.name.startsWith(HELD_OUT_PREFIX)));
  const heldOut = targetChecks(results.filter((r) => r.name.startsWith(HELD_OUT_PREFIX)));
  const allPass = tuning.allPass && heldOut.allPass;

  process.stderr.write(`[bench monitor] sampler cost over ${samplerSeconds} s…\n`);
  const cost = await samplerCost(samplerSeconds);
  const ramp = results.find((r) => r.name === 'ramp')?.trace ?? results[0]?.trace;
  const updates = ramp === undefined ? [] : updateCost(ramp);

  const md = [
    `Traces: ${results.map((r) => `\`${r.name}\` (${r.trace.samples.length} s)`).join(', ')} (\`${HELD_OUT_PREFIX}*\`: held out from tuning) — recorded on this kind of machine, see \`test/fixtures/traces/README.md\`. Each model is replayed online over each trace (window 120 samples); every forecast made after a sample is scored against the sample ${HORIZONS.join(' s and ')} s later.`,
    '',
    evalTables(results),
    `### Default model (\`${DEFAULT_MODEL}\`) against the targets\n`,
    'Ramp and periodic traces: MAE ≤ 0.8× lastValue on the metric the load drives; every other trace/metric: ≤ 1.0×.\n',
    '**Tuning traces** (the five the ensemble was designed and tuned on):\n',
    markdownTable(['trace', 'metric', 'horizon', 'MAE ratio', 'target', 'result'], tuning.rows),
    '',
    `Tuning traces: **${tuning.pass} of ${tuning.rows.length}** checks pass.`,
    '',
    `**Held-out traces** (\`${HELD_OUT_PREFIX}*\`, recorded after the model was chosen, never replayed while tuning):\n`,
    heldOut.rows.length === 0
      ? '_none recorded_'
      : markdownTable(['trace', 'metric', 'horizon', 'MAE ratio', 'target', 'result'], heldOut.rows),
    '',
    `Held-out traces: **${heldOut.pass} of ${heldOut.rows.length}** checks pass. All targets met: **${allPass ? 'yes' : 'no'}**.`,
    '',
    ...READING_NOTES,
    '',
    '### Cost',
    '',
    markdownTable(
      ['measure', 'value', 'target'],
      [
        [
          `sampler CPU at 1 Hz (process.cpuUsage over ${cost.wallS.toFixed(0)} s, ${cost.samples} samples)`,
          `${cost.pctOfCore.toFixed(2)} % of one core`,
          '≤ 1 %',
        ],
        ['… of which child processes (nvidia-smi lookups)', `${cost.childPct.toFixed(2)} % of one core`, ''],
        ...updates.map((u): Array<string | number> => [
          `\`${u.model}\` update (120-point window, cpu of \`ramp\`)`,
          `mean ${u.meanUs.toFixed(1)} µs, p99 ${u.p99Us.toFixed(1)} µs`,
          '≤ 1 ms',
        ]),
      ],
    ),
    '',
    '### Per-trace detail',
    '',
    detailTables(results),
  ].join('\n');
  writeBenchSection('monitor', 'Monitor and forecaster', md);
  process.stderr.write(
    `[bench monitor] tuning ${tuning.pass}/${tuning.rows.length}, held-out ${heldOut.pass}/${heldOut.rows.length}\n`,
  );
}
