import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import {
  computeMetrics,
  isPolicyName,
  loadWorkloadFile,
  POLICY_NAMES,
  renderHtmlReport,
  simulate,
  type PolicyName,
  type SimulationMetrics,
  type Workload,
} from '../../simulator';
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
  printTable(
    ['wait (s)', 'count', 'p50', 'p95', 'max'],
    [
      ['all', w.all],
      ['high 8–10', w.byBand.high],
      ['mid 4–7', w.byBand.mid],
      ['low 1–3', w.byBand.low],
    ].map(([label, s]) => {
      const st = s as SimulationMetrics['waitSeconds']['all'];
      return [label as string, String(st.count), seconds(st.p50), seconds(st.p95), seconds(st.max)];
    }),
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
 * @returns the chosen policy's metrics.
 * @throws UsageError for an unreadable or invalid workload, or an unknown policy.
 */
export function simulateCommand(file: string, options: SimulateCommandOptions = {}): SimulationMetrics {
  const policy = options.policy ?? 'quartermaster';
  if (!isPolicyName(policy))
    throw new UsageError(`unknown policy "${String(policy)}" (known: ${POLICY_NAMES.join(', ')})`);
  const workload = loadForCli(file);
  const policies: readonly PolicyName[] = options.html === undefined ? [policy] : POLICY_NAMES;
  const traces = policies.map((p) => simulate(workload, { policy: p }));
  const chosen = traces[policies.indexOf(policy)];
  if (chosen === undefined) throw new UsageError(`unknown policy "${policy}"`);
  const metrics = computeMetrics(chosen);
  if (options.html !== undefined) {
    writeFileSync(options.html, renderHtmlReport(traces, `Simulation of ${file}`));
  }
  if (options.json === true) printJson(metrics);
  else printSummary(metrics);
  if (options.html !== undefined && options.json !== true)
    process.stdout.write(`report written to ${options.html}\n`);
  return metrics;
}

function parsePolicy(text: string): PolicyName {
  if (!isPolicyName(text))
    throw new InvalidArgumentError(`must be one of ${POLICY_NAMES.join(', ')}, got "${text}"`);
  return text;
}

/** Adds `simulate`. */
export function registerSimulateCommands(program: Command): void {
  program
    .command('simulate')
    .description(
      'run a workload through the scheduling core on a virtual clock and print schedule-quality metrics',
    )
    .argument('<workload>', 'workload JSON file (schema/workload.schema.json)')
    .option('--policy <name>', `${POLICY_NAMES.join(' | ')}`, parsePolicy, 'quartermaster')
    .option('--json', 'print the metrics as one JSON object')
    .option('--html <file>', 'also write an HTML report comparing every policy')
    .action((file: string, opts: { policy: PolicyName; json?: boolean; html?: string }) => {
      simulateCommand(file, {
        policy: opts.policy,
        ...(opts.json === true ? { json: true } : {}),
        ...(opts.html === undefined ? {} : { html: opts.html }),
      });
    });
}
