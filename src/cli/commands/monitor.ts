import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { evaluateTrace, evaluationToJson, maeRatio, type TraceEvaluation } from '../../monitor/evaluate';
import { MODEL_NAMES } from '../../monitor/forecast/models';
import { NodeForecaster } from '../../monitor/node-forecaster';
import { recordTrace } from '../../monitor/record';
import { Sampler } from '../../monitor/sampler';
import { readTraceFile, serializeTrace } from '../../monitor/trace';
import { METRIC_NAMES, type MetricName, type UsageSample } from '../../monitor/types';

function positiveNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number > 0, got "${text}"`);
    return n;
  };
}

const UNITS: Record<MetricName, string> = {
  cpu: 'cores',
  memoryMb: 'MiB',
  diskIoMBps: 'MiB/s',
  netMbps: 'Mbit/s',
};

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return '∞';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => pad(r, widths)).join('\n');
}

/** Renders one trace's evaluation as a plain-text table per metric (MAE, RMSE, p90, ratio to lastValue). */
function renderEvaluation(file: string, ev: TraceEvaluation): string {
  const out = [`${file} (default model: ${ev.default})`];
  for (const metric of ev.metrics) {
    out.push(`\n  ${metric} [${UNITS[metric]}]`);
    const header = ['  model'];
    for (const h of ev.horizons)
      header.push(`MAE@${h}s`, `RMSE@${h}s`, `p90@${h}s`, `ratio@${h}s`, `band@${h}s`);
    const rows = [header];
    for (const model of MODEL_NAMES) {
      const byH = ev.models[model]?.[metric];
      if (byH === undefined) continue;
      const row = [`  ${model}${model === ev.default ? ' *' : ''}`];
      for (const h of ev.horizons) {
        const s = byH[String(h)];
        const ratio = maeRatio(ev, model, metric, h);
        row.push(
          fmt(s?.mae),
          fmt(s?.rmse),
          fmt(s?.p90),
          fmt(ratio, 2),
          s ? `${Math.round(s.coverage * 100)}%` : '—',
        );
      }
      rows.push(row);
    }
    out.push(table(rows));
  }
  return out.join('\n');
}

function renderLive(sample: UsageSample, forecaster: NodeForecaster): string {
  const f5 = forecaster.forecast(5);
  const f10 = forecaster.forecast(10);
  const cap: Record<MetricName, number | null> = {
    cpu: sample.cpuCores,
    memoryMb: sample.memoryTotalMb,
    diskIoMBps: null,
    netMbps: null,
  };
  const rows = [['metric', 'now', '+5 s [band]', '+10 s [band]', 'capacity']];
  for (const m of METRIC_NAMES) {
    const band = (f: typeof f5): string => {
      const x = f[m];
      return x === undefined ? '—' : `${fmt(x.value, 2)} [${fmt(x.lower, 2)}–${fmt(x.upper, 2)}]`;
    };
    rows.push([`${m} (${UNITS[m]})`, fmt(sample[m], 2), band(f5), band(f10), fmt(cap[m], 0)]);
  }
  const gpus =
    sample.gpus === null
      ? 'GPU: none'
      : sample.gpus
          .map(
            (g) =>
              `GPU${g.index}: ${fmt(g.utilizationPct, 0)}% ${fmt(g.memoryUsedMb, 0)}/${fmt(g.memoryTotalMb, 0)} MiB`,
          )
          .join('  ');
  const notes = sample.notes.map((n) => `! ${n.probe}: ${n.message}`).join('\n');
  return `${new Date(sample.at).toISOString()}  (Ctrl-C to quit)\n\n${table(rows)}\n\n${gpus}${notes ? `\n${notes}` : ''}\n`;
}

/**
 * Registers `qm monitor` (live view), `qm monitor record` and `qm monitor eval` on `program`.
 * Results go to stdout, progress to stderr; failures set `process.exitCode` (malformed traces: 1).
 */
export function registerMonitorCommands(program: Command): void {
  const monitor = program
    .command('monitor')
    .description('live view of this node: usage now, +5 s and +10 s forecasts with bands (Ctrl-C to quit)')
    .option('--interval-ms <ms>', 'sampling interval, ms (>= 500)', positiveNumber('--interval-ms'), 1000)
    .action(async (opts: { intervalMs: number }) => {
      const forecaster = new NodeForecaster();
      const tty = process.stdout.isTTY === true;
      const sampler = new Sampler({
        intervalMs: opts.intervalMs,
        onSample: (s) => {
          forecaster.update(s);
          process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${renderLive(s, forecaster)}${tty ? '' : '\n'}`);
        },
      });
      process.stderr.write('[monitor] sampling…\n');
      await sampler.start();
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await sampler.stop();
    });

  monitor
    .command('record')
    .description('record real usage samples of this machine into a trace file')
    .requiredOption('--seconds <n>', 'how long to record, seconds', positiveNumber('--seconds'))
    .requiredOption('--out <file>', 'trace file to write (JSON)')
    .option('--interval-ms <ms>', 'sampling interval, ms (>= 500)', positiveNumber('--interval-ms'), 1000)
    .option('--note <text>', 'free text stored in the trace (how it was produced)')
    .option('--cgroup-root <dir>', 'cgroup v2 directory for container limits', '/sys/fs/cgroup')
    .action(
      async (opts: {
        seconds: number;
        out: string;
        intervalMs: number;
        note?: string;
        cgroupRoot: string;
      }) => {
        const trace = await recordTrace({
          seconds: opts.seconds,
          intervalMs: opts.intervalMs,
          cgroupRoot: opts.cgroupRoot,
          ...(opts.note === undefined ? {} : { note: opts.note }),
          onSample: (_s, i) => {
            if ((i + 1) % 30 === 0) process.stderr.write(`[monitor] ${i + 1} samples\n`);
          },
        });
        await writeFile(opts.out, serializeTrace(trace));
        process.stderr.write(`[monitor] wrote ${trace.samples.length} samples to ${opts.out}\n`);
      },
    );

  monitor
    .command('eval')
    .description(
      'replay traces through every model; print MAE, RMSE, p90 |error| at +5 s and +10 s vs lastValue',
    )
    .argument('<traces...>', 'trace files (JSON)')
    .option('--json', 'print JSON: one entry per file, in argument order')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const results: Array<{ file: string; evaluation: TraceEvaluation }> = [];
      for (const file of files) {
        try {
          results.push({ file, evaluation: evaluateTrace(await readTraceFile(file)) });
        } catch (err) {
          if (err instanceof Error && err.name === 'TraceFormatError') {
            process.stderr.write(`qm monitor eval: invalid trace ${err.message}\n`);
            process.exitCode = 1;
            return;
          }
          throw err;
        }
      }
      if (opts.json === true) {
        process.stdout.write(
          `${JSON.stringify(
            results.map((r) => evaluationToJson(r.file, r.evaluation)),
            null,
            2,
          )}\n`,
        );
      } else {
        process.stdout.write(`${results.map((r) => renderEvaluation(r.file, r.evaluation)).join('\n\n')}\n`);
      }
    });
}
