import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import {
  computeMetrics,
  isPolicyName,
  isRunTimeMode,
  jobsCsv,
  loadWorkloadFile,
  parsePriorityMap,
  POLICY_NAMES,
  readSwfText,
  renderHtmlReport,
  replaySwf,
  RUN_TIME_MODES,
  simulate,
  simulateLearned,
  toExecutionRecords,
  type PolicyName,
  type RunTimeMode,
  type SimulationMetrics,
  type SimulationTrace,
  type SwfEstimates,
  type Workload,
} from '../../simulator';
import { serializeRecordsFile } from '../../report/records-file';
import { UsageError } from '../context';
import { printJson, printTable } from '../output';

/** Options of `qm simulate`. */
export interface SimulateCommandOptions {
  /** The policy whose metrics are printed. @default 'quartermaster' */
  policy?: PolicyName;
  /** Print the metrics as one JSON object instead of a table. @default false */
  json?: boolean;
  /** Also write an HTML report (every policy side by side) to this file. */
  html?: string;
  /** Seconds from a stage becoming ready to its request reaching the scheduler. @default 0 */
  requestLatencySeconds?: number;
  /** Seconds from a grant to its stage running (admission round trips; capacity held). @default 0 */
  startLatencySeconds?: number;
  /** Seconds from a stage's end to its capacity returning and its dependents becoming ready. @default 0 */
  releaseLatencySeconds?: number;
  /** Also write one CSV row per stage (`job,pipeline,stage,priority,submit,start,end,procs,run`) here. */
  jobsOut?: string;
  /** Also write the chosen policy's execution records (JSON, for `qm report --records`) here. */
  recordsOut?: string;
  /**
   * Where the scheduler's run times come from: `declared` (the workload's), `none`, or `learned` (from a
   * warm-up run of the same workload, then from the runs completed; see `simulateLearned`).
   * @default 'declared'
   */
  runTimes?: RunTimeMode;
}

const USAGE_ERROR_NAMES = new Set(['InvalidWorkloadError', 'WorkloadReadError', 'UnknownPolicyError']);

function loadForCli(file: string): Workload {
  try {
    return loadWorkloadFile(file);
  } catch (err) {
    // Bad input is a usage error (exit 2); the message already names the file or the JSON paths.
    if (err instanceof Error && USAGE_ERROR_NAMES.has(err.name)) throw new UsageError(err.message);
    throw err;
  }
}

function seconds(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function printSummary(m: SimulationMetrics): void {
  const w = m.waitSeconds;
  process.stdout.write(
    `policy ${m.policy}: makespan ${seconds(m.makespanSeconds)} s, priority-weighted completion ` +
      `${seconds(m.weightedCompletionSeconds)} s, utilisation while backlogged ` +
      `${Object.entries(m.utilization)
        .map(([r, u]) => `${r} ${(u * 100).toFixed(1)} %`)
        .join(', ')}\n`,
  );
  process.stdout.write(
    `overall utilisation ${Object.entries(m.overallUtilization)
      .map(([r, u]) => `${r} ${(u * 100).toFixed(1)} %`)
      .join(', ')}; held unused ${Object.entries(m.holds.heldUnused)
      .map(([r, u]) => `${r} ${(u * 100).toFixed(1)} %`)
      .join(
        ', ',
      )}; holder changes ${m.holds.holderChanges} (${m.holds.switchesWhileWaiting} while the holder waited)\n`,
  );
  const bsld = m.boundedSlowdown;
  printTable(
    ['wait (s)', 'count', 'mean', 'p50', 'p95', 'max', 'bounded slowdown'],
    (
      [
        ['all', w.all, bsld.all],
        ['high 8–10', w.byBand.high, bsld.byBand.high],
        ['mid 4–7', w.byBand.mid, bsld.byBand.mid],
        ['low 1–3', w.byBand.low, bsld.byBand.low],
      ] as const
    ).map(([label, st, sd]) => [
      label,
      String(st.count),
      seconds(st.mean),
      seconds(st.p50),
      seconds(st.p95),
      seconds(st.max),
      sd.toFixed(2),
    ]),
  );
  process.stdout.write(
    `reduced grants ${m.reducedGrants}, shards ${m.shards} (${m.shardedStages} stages), shrinks ${m.degradations}, ` +
      `overcommit events ${m.overcommitEvents}` +
      (m.unstartedStages > 0 ? `, ${m.unstartedStages} stage(s) never started` : '') +
      `\nstart estimates: ${m.waitEstimate.count} stages, mean |error| ${seconds(m.waitEstimate.meanAbsErrorSeconds)} s\n`,
  );
}

/**
 * `qm simulate WORKLOAD.json`: runs the workload through the production scheduling core on a virtual clock
 * and prints the chosen policy's metrics (a summary, or `--json`); `--html` also writes a report comparing
 * every policy.
 * `--run-times learned` runs each policy twice (a warm-up, then the measured run learning from it).
 * @returns the chosen policy's metrics.
 * @throws UsageError for an unreadable or invalid workload, an unknown policy or run-time mode.
 */
export function simulateCommand(file: string, options: SimulateCommandOptions = {}): SimulationMetrics {
  const policy = options.policy ?? 'quartermaster';
  if (!isPolicyName(policy))
    throw new UsageError(`unknown policy "${String(policy)}" (known: ${POLICY_NAMES.join(', ')})`);
  const runTimes: unknown = options.runTimes ?? 'declared';
  if (!isRunTimeMode(runTimes))
    throw new UsageError(`unknown run-time mode "${String(runTimes)}" (known: ${RUN_TIME_MODES.join(', ')})`);
  const workload = loadForCli(file);
  const policies: readonly PolicyName[] = options.html === undefined ? [policy] : POLICY_NAMES;
  const latencies = {
    ...(options.requestLatencySeconds === undefined
      ? {}
      : { requestLatencySeconds: options.requestLatencySeconds }),
    ...(options.startLatencySeconds === undefined
      ? {}
      : { startLatencySeconds: options.startLatencySeconds }),
    ...(options.releaseLatencySeconds === undefined
      ? {}
      : { releaseLatencySeconds: options.releaseLatencySeconds }),
  };
  let traces: SimulationTrace[];
  try {
    traces = policies.map((p) =>
      runTimes === 'learned'
        ? simulateLearned(workload, { policy: p, ...latencies }).trace
        : simulate(workload, { policy: p, runTimes, ...latencies }),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'InvalidSimulationOptionError')
      throw new UsageError(err.message);
    throw err;
  }
  const chosen = traces[policies.indexOf(policy)];
  if (chosen === undefined) throw new UsageError(`unknown policy "${policy}"`);
  const metrics = computeMetrics(chosen);
  if (options.html !== undefined) {
    writeFileSync(options.html, renderHtmlReport(traces, `Simulation of ${file}`));
  }
  if (options.jobsOut !== undefined) writeFileSync(options.jobsOut, jobsCsv(chosen));
  if (options.recordsOut !== undefined) {
    const data = toExecutionRecords(chosen);
    writeFileSync(
      options.recordsOut,
      serializeRecordsFile({
        title: `Simulation of ${file} (policy ${policy}, run times ${runTimes})`,
        simulated: true,
        ...data,
      }),
    );
  }
  if (options.json === true) printJson(metrics);
  else printSummary(metrics);
  if (options.html !== undefined && options.json !== true)
    process.stdout.write(`report written to ${options.html}\n`);
  return metrics;
}

interface SimulateCliOptions {
  policy: PolicyName;
  json?: boolean;
  html?: string;
  requestLatency?: number;
  startLatency?: number;
  releaseLatency?: number;
  swf?: string;
  priorityMap?: string;
  cluster?: string;
  timeScale?: number;
  window?: string;
  shardableFraction?: number;
  jobsOut?: string;
  recordsOut?: string;
  estimates?: string;
  runTimes?: RunTimeMode;
}

function parseRunTimes(text: string): RunTimeMode {
  if (!isRunTimeMode(text))
    throw new InvalidArgumentError(`must be one of ${RUN_TIME_MODES.join(', ')}, got "${text}"`);
  return text;
}

function parsePolicy(text: string): PolicyName {
  if (!isPolicyName(text))
    throw new InvalidArgumentError(`must be one of ${POLICY_NAMES.join(', ')}, got "${text}"`);
  return text;
}

/** Options of `qm simulate --swf`. */
export interface SwfCommandOptions {
  /** The policy. @default 'quartermaster' */
  policy?: PolicyName;
  /** Print the metrics as JSON. @default false */
  json?: boolean;
  /** `group:2=8,queue:0=7,default=4`; @default the rule of `defaultSwfPriority` */
  priorityMap?: string;
  /** `NxC` or core counts; @default one node of the log's MaxProcs */
  cluster?: string;
  /** Divide arrival times by this. @default 1 */
  timeScale?: number;
  /** `FROM,TO` seconds of the log. */
  window?: string;
  /** Share of wide jobs made shardable (0–1). @default 0 */
  shardableFraction?: number;
  /** `requested` (field 9; none when the log has none) or `actual` (the oracle, labelled). @default 'requested' */
  estimates?: SwfEstimates;
  /** Also write one CSV row per job here. */
  jobsOut?: string;
}

/**
 * `qm simulate --swf FILE[.gz]`: replays a Standard Workload Format log (each job a one-stage pipeline);
 * skipped lines are reported on stderr with their line numbers, progress every 10,000 events.
 * @returns the metrics (with `swf` job counters added).
 * @throws UsageError for an unreadable file or a bad option.
 */
export function simulateSwfCommand(file: string, options: SwfCommandOptions = {}): SimulationMetrics {
  const policy = options.policy ?? 'quartermaster';
  try {
    const text = readSwfText(file);
    let window: [number, number] | undefined;
    if (options.window !== undefined) {
      const parts = options.window.split(',').map(Number);
      if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)))
        throw new UsageError(`--window must be FROM,TO in seconds, got "${options.window}"`);
      window = [parts[0] as number, parts[1] as number];
    }
    let shown = 0;
    const result = replaySwf(text, {
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
      ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
      ...(window === undefined ? {} : { window }),
      ...(options.shardableFraction === undefined ? {} : { shardableFraction: options.shardableFraction }),
      ...(options.priorityMap === undefined ? {} : { priorityMap: parsePriorityMap(options.priorityMap) }),
      ...(options.estimates === undefined ? {} : { estimates: options.estimates }),
      onProblem: (p) => {
        if (shown++ < 20) process.stderr.write(`${file}:${p.line}: ${p.message} (skipped)\n`);
      },
      simulate: {
        policy,
        onProgress: ({ t, completedPipelines, totalPipelines }) =>
          process.stderr.write(
            `[simulate] t=${t.toFixed(0)} s, ${completedPipelines}/${totalPipelines} jobs done\n`,
          ),
      },
    });
    if (shown > 20) process.stderr.write(`${file}: ${shown - 20} more line(s) skipped\n`);
    const estimates = options.estimates ?? 'requested';
    const metrics = {
      ...computeMetrics(result.trace),
      swf: {
        ...result.stats,
        skippedLines: result.problems,
        // Every output says what the scheduler was told: `actual` is an oracle no real scheduler has.
        estimates:
          estimates === 'actual'
            ? 'actual run times (oracle)'
            : result.stats.withRequestedTime > 0
              ? 'requested times (field 9)'
              : 'none: the log has no requested times, nothing backfills into holds',
        priorities:
          options.priorityMap === undefined
            ? 'default rule (group 2: 8; queue 0: 7, 1: 4; requested time ≤ 300 s: 5, longer: 3; else 5)'
            : options.priorityMap,
      },
    };
    if (options.jobsOut !== undefined) writeFileSync(options.jobsOut, jobsCsv(result.trace));
    if (options.json === true) printJson(metrics);
    else {
      process.stdout.write(`estimates: ${metrics.swf.estimates}; priorities: ${metrics.swf.priorities}\n`);
      printSummary(metrics);
    }
    return metrics;
  } catch (err) {
    if (
      err instanceof Error &&
      (USAGE_ERROR_NAMES.has(err.name) || err.name === 'InvalidSimulationOptionError')
    )
      throw new UsageError(err.message);
    throw err;
  }
}

function number(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${text}"`);
    return n;
  };
}

/** Adds `simulate`. */
export function registerSimulateCommands(program: Command): void {
  program
    .command('simulate')
    .description(
      'run a workload through the scheduling core on a virtual clock and print schedule-quality metrics',
    )
    .argument('[workload]', 'workload JSON file (schema/workload.schema.json)')
    .option(
      '--policy <name>',
      'quartermaster (score order, EASY holds, reduced grants, shards) | fifo (strict: nothing overtakes ' +
        'the head) | firstfit (ready order, first fit, no holds) | easy (ready order + EASY backfilling: ' +
        'shadow time and extra capacity) | priority (strict priority order, first fit)',
      parsePolicy,
      'quartermaster',
    )
    .option('--json', 'print the metrics as one JSON object')
    .option('--html <file>', 'also write an HTML report comparing every policy')
    .option(
      '--jobs-out <file>',
      'also write one CSV row per stage: job,pipeline,stage,priority,submit,start,end,procs,run',
    )
    .option(
      '--request-latency <seconds>',
      'seconds from a stage becoming ready to its request reaching the scheduler',
      number('--request-latency'),
    )
    .option(
      '--start-latency <seconds>',
      "seconds from a grant to the stage running (a real deployment's admission round trips)",
      number('--start-latency'),
    )
    .option(
      '--release-latency <seconds>',
      'seconds from a stage ending to its capacity returning and its dependents becoming ready',
      number('--release-latency'),
    )
    .option(
      '--records-out <file>',
      "also write the chosen policy's execution records as JSON (render them with qm report --records)",
    )
    .option(
      '--run-times <mode>',
      "what the scheduler is told stages run: declared (the workload's expectedSeconds) | none | learned " +
        '(from a warm-up run of the same workload, keyed by definition name, stage and handler)',
      parseRunTimes,
    )
    .option('--swf <file>', 'replay a Standard Workload Format log (.swf or .swf.gz) instead of a workload')
    .option('--priority-map <map>', 'SWF: group:2=8,queue:0=7,default=4 (first match wins)')
    .option(
      '--cluster <spec>',
      "SWF: NxC nodes of C cores, or core counts (default: one node of the log's MaxProcs)",
    )
    .option(
      '--time-scale <factor>',
      'SWF: divide arrival times by this (raise the load)',
      number('--time-scale'),
    )
    .option('--window <from,to>', 'SWF: only jobs submitted in this range of seconds')
    .option(
      '--shardable-fraction <f>',
      'SWF: share of wide jobs made shardable (0-1)',
      number('--shardable-fraction'),
    )
    .option(
      '--estimates <kind>',
      'SWF: what the scheduler is told a job runs: requested (field 9; none without it) | actual (an oracle; labelled)',
    )
    .action((file: string | undefined, opts: SimulateCliOptions) => {
      if (opts.swf !== undefined) {
        if (opts.recordsOut !== undefined)
          throw new UsageError('--records-out needs a workload file (SWF replays record no executions)');
        if (opts.runTimes !== undefined)
          throw new UsageError('--run-times needs a workload file (SWF replays take --estimates)');
        simulateSwfCommand(opts.swf, {
          policy: opts.policy,
          ...(opts.json === true ? { json: true } : {}),
          ...(opts.priorityMap === undefined ? {} : { priorityMap: opts.priorityMap }),
          ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }),
          ...(opts.timeScale === undefined ? {} : { timeScale: opts.timeScale }),
          ...(opts.window === undefined ? {} : { window: opts.window }),
          ...(opts.shardableFraction === undefined ? {} : { shardableFraction: opts.shardableFraction }),
          ...(opts.jobsOut === undefined ? {} : { jobsOut: opts.jobsOut }),
          ...(opts.estimates === undefined ? {} : { estimates: opts.estimates as SwfEstimates }),
        });
        return;
      }
      if (file === undefined) throw new UsageError('give a workload file, or --swf FILE');
      simulateCommand(file, {
        policy: opts.policy,
        ...(opts.json === true ? { json: true } : {}),
        ...(opts.html === undefined ? {} : { html: opts.html }),
        ...(opts.requestLatency === undefined ? {} : { requestLatencySeconds: opts.requestLatency }),
        ...(opts.startLatency === undefined ? {} : { startLatencySeconds: opts.startLatency }),
        ...(opts.releaseLatency === undefined ? {} : { releaseLatencySeconds: opts.releaseLatency }),
        ...(opts.jobsOut === undefined ? {} : { jobsOut: opts.jobsOut }),
        ...(opts.recordsOut === undefined ? {} : { recordsOut: opts.recordsOut }),
        ...(opts.runTimes === undefined ? {} : { runTimes: opts.runTimes }),
      });
    });
}
