/**
 * Standard Workload Format (SWF, the Parallel Workloads Archive's log format) replay: a line-by-line
 * parser that never throws on bad data (malformed or truncated lines are reported with their line number
 * and skipped; fields marked unknown, −1, fall back or skip the job), and a lazy conversion of each job
 * into a one-stage `qm.sleep` pipeline needing `cpu` = its processors for its run time, ready for
 * `simulate`. Jobs are produced one at a time, so the simulator holds only the jobs in flight.
 *
 * SWF fields (1-based): 1 job, 2 submit time (s), 3 wait (s), 4 run time (s), 5 allocated processors,
 * 6 average CPU time, 7 used memory, 8 requested processors, 9 requested time, 10 requested memory,
 * 11 status, 12 user, 13 group, 14 executable, 15 queue, 16 partition, 17 preceding job, 18 think time.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { NormalisedPipelineDefinition } from '../definition/types';
import { InvalidSimulationOptionError, WorkloadReadError } from './errors';
import { simulateSubmissions, type SimulateOptions } from './simulate';
import type { SimulationTrace } from './trace';
import type { WorkloadNode, WorkloadSubmission } from './workload';

/** One parsed SWF job (the fields the replay uses). */
export interface SwfJob {
  /** Line number in the file (1-based). */
  readonly line: number;
  /** Job number (field 1). */
  readonly id: number;
  /** Submit time, seconds from the log's start (field 2). */
  readonly submit: number;
  /** Run time, seconds (field 4). */
  readonly runTime: number;
  /** Processors: allocated (field 5), else requested (field 8). */
  readonly procs: number;
  /** The user's requested (limit) time, seconds (field 9); −1 when unknown. */
  readonly requestedTime: number;
  /** User (field 12), −1 when unknown. */
  readonly user: number;
  /** Group (field 13), −1 when unknown. */
  readonly group: number;
  /** Queue (field 15), −1 when unknown. */
  readonly queue: number;
}

/** A line that could not be used, and why. */
export interface SwfProblem {
  /** Line number (1-based). */
  readonly line: number;
  /** What is wrong, e.g. `truncated: 7 of 18 fields`. */
  readonly message: string;
}

/** Header facts (`; MaxProcs: 128`). */
export interface SwfHeader {
  /** `MaxProcs`, else `MaxNodes`, when given. */
  maxProcs?: number;
}

/** Reads an SWF file (`.gz` is decompressed) into its text. @throws WorkloadReadError when unreadable. */
export function readSwfText(file: string): string {
  try {
    const raw = readFileSync(file);
    return file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  } catch (err) {
    throw new WorkloadReadError(file, err instanceof Error ? err.message : String(err));
  }
}

/** The header of an SWF text (comment lines starting with `;`). Never throws. */
export function parseSwfHeader(text: string): SwfHeader {
  const header: SwfHeader = {};
  for (const m of text.matchAll(/^;\s*(MaxProcs|MaxNodes):\s*(\d+)/gm)) {
    const n = Number(m[2]);
    if (m[1] === 'MaxProcs' || header.maxProcs === undefined) header.maxProcs = n;
  }
  return header;
}

/**
 * The jobs of an SWF text, lazily, in file order. Comment and blank lines are skipped silently; a line
 * with fewer than 18 fields, a non-numeric field, an unknown (−1) or negative run time or submit time, or
 * no known processor count is passed to `onProblem` and skipped. Never throws.
 */
export function* parseSwf(
  text: string,
  onProblem: (p: SwfProblem) => void = () => undefined,
): Generator<SwfJob> {
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    line++;
    if (raw === '' || raw.startsWith(';')) {
      if (end === text.length) break;
      continue;
    }
    const fields = raw.split(/\s+/);
    if (fields.length < 18) {
      onProblem({ line, message: `truncated: ${fields.length} of 18 fields` });
    } else {
      const nums = fields.slice(0, 18).map(Number);
      const bad = nums.findIndex((n) => !Number.isFinite(n));
      if (bad >= 0) {
        onProblem({ line, message: `field ${bad + 1} is not a number (${JSON.stringify(fields[bad])})` });
      } else {
        const f = (i: number): number => nums[i - 1] as number;
        const procs = f(5) > 0 ? f(5) : f(8);
        if (f(2) < 0) onProblem({ line, message: 'unknown submit time (field 2)' });
        else if (f(4) < 0) onProblem({ line, message: 'unknown run time (field 4)' });
        else if (!(procs > 0)) onProblem({ line, message: 'unknown processor count (fields 5 and 8)' });
        else
          yield {
            line,
            id: f(1),
            submit: f(2),
            runTime: f(4),
            procs,
            requestedTime: f(9) > 0 ? f(9) : -1,
            user: f(12),
            group: f(13),
            queue: f(15),
          };
      }
    }
    if (end === text.length) break;
  }
}

/** One rule of a priority map: jobs whose `field` equals `value` get `priority`. */
export interface PriorityRule {
  /** `group`, `queue` or `user`. */
  readonly field: 'group' | 'queue' | 'user';
  /** The field's value. */
  readonly value: number;
  /** Priority 1–10. */
  readonly priority: number;
}

/**
 * Parses `--priority-map`: `group:2=8,queue:0=7,default=4` — rules tried in order, first match wins,
 * `default` for the rest (@default 5).
 * @throws InvalidSimulationOptionError naming the bad entry.
 */
export function parsePriorityMap(text: string): { rules: PriorityRule[]; fallback: number } {
  const rules: PriorityRule[] = [];
  let fallback = 5;
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const m = /^(?:(group|queue|user):(-?\d+)|default)=(\d+)$/.exec(entry);
    const priority = m === null ? Number.NaN : Number(m[3]);
    if (m === null || !Number.isInteger(priority) || priority < 1 || priority > 10) {
      throw new InvalidSimulationOptionError(
        'priorityMap',
        entry,
        'expected FIELD:VALUE=P or default=P, P 1–10',
      );
    }
    if (m[1] === undefined) fallback = priority;
    else rules.push({ field: m[1] as PriorityRule['field'], value: Number(m[2]), priority });
  }
  return { rules, fallback };
}

/**
 * The default priority rule, from what a scheduler knows at submission (never the actual run time):
 * system personnel (group 2) 8; interactive queue (0) 7; batch queue (1) 4; unknown queue: a requested
 * time (field 9) of ≤ 300 s 5, a longer one 3; no requested time either: 5. (The NASA log has neither queue
 * nor requested time: its jobs are 8 for group 2, else 5.)
 */
export function defaultSwfPriority(job: SwfJob): number {
  if (job.group === 2) return 8;
  if (job.queue === 0) return 7;
  if (job.queue === 1) return 4;
  if (job.requestedTime > 0) return job.requestedTime <= 300 ? 5 : 3;
  return 5;
}

/** What the scheduler is told a job's run takes. */
export type SwfEstimates = 'requested' | 'actual';

/** Options of {@link swfSubmissions}. */
export interface SwfReplayOptions {
  /** Divide submit times by this (> 1 compresses arrivals, raising the load). @default 1 */
  timeScale?: number;
  /** Only jobs submitted in `[from, to]` seconds of the log (before scaling); times start at `from`. */
  window?: readonly [number, number];
  /** Share (0–1) of wide jobs (procs > ¼ of the largest node) made shardable by items. @default 0 */
  shardableFraction?: number;
  /** Priority rules (from {@link parsePriorityMap}); @default {@link defaultSwfPriority} */
  priorityMap?: { rules: readonly PriorityRule[]; fallback: number };
  /**
   * What the scheduler is told a job's run takes (backfill, start estimates): `requested` — the user's
   * requested time (field 9), and nothing when the log has none (then nothing backfills into holds);
   * `actual` — the log's actual run time, an oracle no real scheduler has (label results that use it).
   * @default 'requested'
   */
  estimates?: SwfEstimates;
  /** The nodes (jobs wider than the largest are clamped to it and counted). */
  nodes: readonly WorkloadNode[];
}

/** Counters of a replay, filled as jobs are produced. */
export interface SwfReplayStats {
  /** Jobs turned into submissions. */
  jobs: number;
  /** Jobs outside the window. */
  outsideWindow: number;
  /** Jobs wider than the largest node, clamped to it. */
  clamped: number;
  /** Jobs made shardable. */
  shardable: number;
  /** Jobs with a requested time (field 9). */
  withRequestedTime: number;
}

/** Knuth's multiplicative hash of the job number into [0, 1): a deterministic "random" choice. */
function unitHash(n: number): number {
  return (Math.imul(n >>> 0, 2654435761) >>> 0) / 2 ** 32;
}

/**
 * Lazily turns SWF jobs into submissions: one `qm.sleep` stage needing `cpu` = processors (clamped to the
 * largest node) for its run time, priority from the map, submitted at `(submit − from) / timeScale`.
 * @throws InvalidSimulationOptionError for a bad option (before the first job).
 */
export function* swfSubmissions(
  jobs: Iterable<SwfJob>,
  options: SwfReplayOptions,
  stats: SwfReplayStats = { jobs: 0, outsideWindow: 0, clamped: 0, shardable: 0, withRequestedTime: 0 },
): Generator<WorkloadSubmission> {
  const estimates = options.estimates ?? 'requested';
  if (estimates !== 'requested' && estimates !== 'actual')
    throw new InvalidSimulationOptionError('estimates', estimates, 'must be "requested" or "actual"');
  const scale = options.timeScale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new InvalidSimulationOptionError('timeScale', scale, 'must be a finite number > 0');
  const fraction = options.shardableFraction ?? 0;
  if (!(fraction >= 0 && fraction <= 1))
    throw new InvalidSimulationOptionError('shardableFraction', fraction, 'must be in [0, 1]');
  const [from, to] = options.window ?? [0, Infinity];
  if (!(from >= 0 && to >= from))
    throw new InvalidSimulationOptionError('window', options.window, 'must be FROM,TO with 0 ≤ FROM ≤ TO');
  const maxCpu = Math.max(0, ...options.nodes.map((n) => n.capacity.cpu ?? 0));
  for (const job of jobs) {
    if (job.submit < from || job.submit > to) {
      stats.outsideWindow++;
      continue;
    }
    let cpu = job.procs;
    if (cpu > maxCpu) {
      cpu = maxCpu;
      stats.clamped++;
    }
    const map = options.priorityMap;
    const priority =
      map === undefined
        ? defaultSwfPriority(job)
        : (map.rules.find((r) => job[r.field] === r.value)?.priority ?? map.fallback);
    const shardable = job.procs > maxCpu / 4 && unitHash(job.id) < fraction;
    if (shardable) stats.shardable++;
    const definition: NormalisedPipelineDefinition = {
      name: `job-${job.id}`,
      importance: 0,
      stages: [
        {
          id: 'run',
          handler: 'qm.sleep',
          priority,
          dependsOn: [],
          // Items only carry the count (one per processor); the shard planner splits the CPU by item share.
          input: shardable ? { items: Array.from({ length: cpu }, (_, i) => i) } : {},
          resources: { desired: { cpu }, minimum: { cpu } },
          ...(shardable
            ? {
                shard: {
                  by: 'items' as const,
                  field: 'items',
                  maxShards: Math.min(16, cpu),
                  reassemble: 'qm.concat',
                  partial: 'forbid' as const,
                },
              }
            : {}),
        },
      ],
    };
    stats.jobs++;
    if (job.requestedTime > 0) stats.withRequestedTime++;
    // What the scheduler is told: the user's requested time (an over-estimate, as EASY backfill gets), or
    // nothing; the actual run time only when asked for (`estimates: 'actual'`).
    const told = estimates === 'actual' ? job.runTime : job.requestedTime > 0 ? job.requestedTime : null;
    yield {
      at: (job.submit - from) / scale,
      definition,
      durations: { run: job.runTime },
      expectedSeconds: told === null ? {} : { run: told },
      boosts: [],
      jobId: job.id,
    };
  }
}

/**
 * Parses `--cluster`: `NxC` — N nodes of C cores each (`4x32`), or a comma list of core counts (`64,32,32`).
 * @throws InvalidSimulationOptionError for anything else.
 */
export function parseClusterSpec(spec: string): WorkloadNode[] {
  const m = /^(\d+)x(\d+(?:\.\d+)?)$/.exec(spec.trim());
  const sizes =
    m !== null ? Array.from({ length: Number(m[1]) }, () => Number(m[2])) : spec.split(',').map(Number);
  if (sizes.length === 0 || sizes.some((c) => !(c > 0) || !Number.isFinite(c))) {
    throw new InvalidSimulationOptionError(
      'cluster',
      spec,
      'expected NxC (e.g. 4x32) or a list of core counts (64,32)',
    );
  }
  return sizes.map((cpu, i) => ({ id: `n${i + 1}`, capacity: { cpu } }));
}

/** Options of {@link replaySwf}. */
export interface SwfRunOptions extends Omit<SwfReplayOptions, 'nodes'> {
  /** `NxC` or a list of core counts; @default one node with the header's MaxProcs */
  cluster?: string;
  /** Simulation options (policy…); the replay defaults `recordTimeline` to false and `tickSeconds` to Infinity. */
  simulate?: SimulateOptions;
  /** Called for each skipped line. */
  onProblem?: (p: SwfProblem) => void;
}

/** What a replay returns. */
export interface SwfRunResult {
  /** The simulation trace. */
  readonly trace: SimulationTrace;
  /** Job counters. */
  readonly stats: SwfReplayStats;
  /** Lines skipped. */
  readonly problems: number;
  /** The cluster used. */
  readonly nodes: readonly WorkloadNode[];
}

/**
 * Replays an SWF text: parse lazily, convert, simulate. Cycles run on events only (no ticks) unless
 * `simulate.tickSeconds` says otherwise; executions are not recorded unless `simulate.recordTimeline`.
 * @throws InvalidSimulationOptionError for bad options or no cluster (no `--cluster` and no MaxProcs
 *   header); UnknownPolicyError.
 */
export function replaySwf(text: string, options: SwfRunOptions = {}): SwfRunResult {
  let nodes: WorkloadNode[];
  if (options.cluster !== undefined) nodes = parseClusterSpec(options.cluster);
  else {
    const max = parseSwfHeader(text).maxProcs;
    if (max === undefined)
      throw new InvalidSimulationOptionError(
        'cluster',
        undefined,
        'the log has no MaxProcs header: give --cluster',
      );
    nodes = [{ id: 'n1', capacity: { cpu: max } }];
  }
  let problems = 0;
  const stats: SwfReplayStats = { jobs: 0, outsideWindow: 0, clamped: 0, shardable: 0, withRequestedTime: 0 };
  const jobs = parseSwf(text, (p) => {
    problems++;
    options.onProblem?.(p);
  });
  const { cluster: _c, simulate: sim, onProblem: _p, ...replay } = options;
  const submissions = swfSubmissions(jobs, { ...replay, nodes }, stats);
  const trace = simulateSubmissions({ cluster: { nodes, pools: {} }, background: {} }, submissions, {
    recordTimeline: false,
    tickSeconds: Infinity,
    estimateLimit: 50,
    ...sim,
  });
  return { trace, stats, problems, nodes };
}
