import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { recordTrace } from '../../monitor/record';
import { serializeTrace } from '../../monitor/trace';

function positiveNumber(name: string, min = 0) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= min) throw new InvalidArgumentError(`${name} must be a number > ${min}, got "${text}"`);
    return n;
  };
}

/**
 * Registers `qm monitor` (live view), `qm monitor record` and `qm monitor eval` on `program`.
 * Commands write results to stdout, progress to stderr, and set `process.exitCode` on failure.
 */
export function registerMonitorCommands(program: Command): void {
  const monitor = program.command('monitor').description('watch, record and evaluate resource usage forecasts');

  monitor
    .command('record')
    .description('record real usage samples of this machine into a trace file')
    .requiredOption('--seconds <n>', 'how long to record, seconds', positiveNumber('--seconds'))
    .requiredOption('--out <file>', 'trace file to write (JSON)')
    .option('--interval-ms <ms>', 'sampling interval, ms (>= 500)', positiveNumber('--interval-ms'), 1000)
    .option('--note <text>', 'free text stored in the trace (how it was produced)')
    .option('--cgroup-root <dir>', 'cgroup v2 directory for container limits', '/sys/fs/cgroup')
    .action(async (opts: { seconds: number; out: string; intervalMs: number; note?: string; cgroupRoot: string }) => {
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
    });
}
