import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DEFAULT_SCHEDULER_WORKFLOW_ID } from '../src/admission/constants';
import { pipelineResult, startPipeline } from '../src/client';
import type { PipelineDefinition } from '../src/definition/types';
import { startBenchCluster, type BenchCluster } from './cluster';
import type { NodeOptions } from '../src/worker/create-worker';
import { markdownTable, percentile, writeBenchSection } from './report';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function millis(e: HistoryEvent): number {
  const t = e.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

interface RunResult {
  setup: string;
  n: number;
  seconds: number;
  /** CPU time the whole machine spent during the run (every process: dev server, PostgreSQL, workers), s. */
  cpuSeconds: number;
  /** The same by process kind (diagnostics: in the run's JSON line). */
  cpuBy: CpuByProcess;
  completed: number;
  sustained?: number;
  peak?: number;
  p50?: number;
  p99?: number;
  expired?: number;
  /** Grants made behind a running stage (successor grants). */
  successors?: number;
  /** Successors: grant → promotion p50 ms (how far ahead of its predecessor's end it was granted). */
  aheadP50?: number;
  /** Successors: grant → running p50 ms (their whole pickup, gate included). */
  successorPickupP50?: number;
  /** Release → the next grant, p50 ms: how long freed capacity idles before a waiter gets it. */
  handOverP50?: number;
  /** Grant → its stage running on the node, p50 ms: the waiter's activity, a workflow task, the node's pickup. */
  pickupP50?: number;
  /** Of the time capacity was held (grant → release), the share its stages were running (start → release), %. */
  heldRunningPct?: number;
  schedulerSignals?: number;
  schedulerTaskP99?: number;
  /** Cycles the scheduler workflow ran during the run (its `scheduleCycle` activities; diagnostics). */
  schedulerCycles?: number;
  /** Its longest workflow task during the run, ms (diagnostics). */
  schedulerTaskMax?: number;
  /** Scheduler tasks that replayed its history (not on the sticky queue), and whether the longest was one. */
  schedulerReplays?: number;
  schedulerMaxWasReplay?: boolean;
  /** The longest workflow task of a sample of the pipelines (see pipelineTaskMax), ms. */
  pipelineTaskMax?: number;
  rowsPerRequest?: number;
}

/**
 * CPU seconds the whole machine has spent busy since boot (/proc/stat's first line: everything but idle and
 * iowait, in USER_HZ = 100 ticks a second); 0 where there is no /proc.
 */
function machineCpuSeconds(): number {
  try {
    const fields =
      readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds per process kind (the dev server, PostgreSQL, this Node process, the rest), from /proc. */
type CpuByProcess = Record<'temporal' | 'postgres' | 'node' | 'other', number>;

/**
 * Every live process's busy CPU ticks by pid, with its kind (its command name); {} where there is no /proc.
 * PostgreSQL backends that exit between two readings are counted in their parent's children's time.
 */
function processTicks(): Map<number, { kind: keyof CpuByProcess; ticks: number }> {
  const out = new Map<number, { kind: keyof CpuByProcess; ticks: number }>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime are fields 14-17 (1-based, counting pid and comm).
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
      const kind = comm.startsWith('temporal')
        ? 'temporal'
        : comm.startsWith('postgres')
          ? 'postgres'
          : Number(pid) === process.pid
            ? 'node'
            : 'other';
      out.set(Number(pid), { kind, ticks });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds per process kind between two {@link processTicks} readings (new processes count whole). */
function cpuBetween(
  before: ReturnType<typeof processTicks>,
  after: ReturnType<typeof processTicks>,
): CpuByProcess {
  const out: CpuByProcess = { temporal: 0, postgres: 0, node: 0, other: 0 };
  for (const [pid, a] of after) out[a.kind] += (a.ticks - (before.get(pid)?.ticks ?? 0)) / 100;
  for (const k of Object.keys(out) as Array<keyof CpuByProcess>) out[k] = Math.round(out[k] * 10) / 10;
  return out;
}

async function tupleReads(db: pg.Client, schema: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) AS n FROM pg_stat_user_tables WHERE schemaname = $1`,
    [schema],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Signals received and workflow-task durations of the scheduler's current run within [fromMs, toMs]. */
async function schedulerLoad(
  client: Client,
  fromMs: number,
  toMs: number,
): Promise<{
  signals: number;
  taskP99: number;
  taskMax: number;
  cycles: number;
  /** Tasks scheduled on the normal queue, not the worker's sticky one: the worker had to replay the history. */
  replays: number;
  /** The longest task was such a replay. */
  maxWasReplay: boolean;
}> {
  // No scheduler at all when every request took the fast path (nothing ever waited): no signals, no tasks.
  const history = await client.workflow
    .getHandle(DEFAULT_SCHEDULER_WORKFLOW_ID)
    .fetchHistory()
    .catch(() => undefined);
  const events = history?.events ?? [];
  const inRun = events.filter((e) => millis(e) >= fromMs && millis(e) <= toMs);
  const signals = inRun.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  const cycles = inRun.filter((e) => e.activityTaskScheduledEventAttributes).length;
  const { durations, replays, maxWasReplay } = workflowTasks(inRun);
  return {
    signals,
    taskP99: durations.length > 0 ? percentile(durations, 99) : 0,
    taskMax: Math.max(0, ...durations),
    cycles,
    replays,
    maxWasReplay,
  };
}

/** Workflow tasks in `events`: each one's started → completed ms, how many replayed, whether the longest did. */
function workflowTasks(events: HistoryEvent[]): {
  durations: number[];
  replays: number;
  maxWasReplay: boolean;
} {
  const durations: number[] = [];
  let startedAt: number | undefined;
  let sticky = true;
  let replays = 0;
  let maxWasReplay = false;
  for (const e of events) {
    const scheduled = e.workflowTaskScheduledEventAttributes;
    // TASK_QUEUE_KIND_STICKY = 2: the worker that holds the workflow in its cache takes the task.
    if (scheduled) sticky = Number(scheduled.taskQueue?.kind) === 2;
    if (e.workflowTaskStartedEventAttributes) startedAt = millis(e);
    if (e.workflowTaskCompletedEventAttributes && startedAt !== undefined) {
      const ms = millis(e) - startedAt;
      if (!sticky) replays += 1;
      if (ms > Math.max(0, ...durations)) maxWasReplay = !sticky;
      durations.push(ms);
    }
  }
  return { durations, replays, maxWasReplay };
}

/** The pipelines' sample size for {@link pipelineTaskMax}. */
const PIPELINE_SAMPLE = 50;

/**
 * The longest workflow task of a sample of the run's pipelines (every N/50th): what the same process's
 * saturation does to any workflow's task, for comparison with the scheduler's.
 */
async function pipelineTaskMax(handles: ReadonlyArray<WorkflowHandle>): Promise<number> {
  const step = Math.max(1, Math.floor(handles.length / PIPELINE_SAMPLE));
  let max = 0;
  for (let i = 0; i < handles.length; i += step) {
    const history = await (handles[i] as WorkflowHandle).fetchHistory().catch(() => undefined);
    max = Math.max(max, ...workflowTasks(history?.events ?? []).durations);
  }
  return max;
}

async function runOnce(
  cluster: BenchCluster,
  setup: string,
  n: number,
  withResources: boolean,
): Promise<RunResult> {
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  const tag = `load${n}${withResources ? 'r' : 'p'}${Date.now()}`;
  const definition: PipelineDefinition = {
    name: 'load-bench',
    stages: [
      {
        id: 's',
        handler: 'qm.sleep',
        priority: 5,
        input: { ms: 200 },
        ...(withResources ? { resources: { desired: { cpu: 1 } } } : {}),
      },
    ],
  };
  try {
    const readsBefore = await tupleReads(db, cluster.schema);
    const cpuBefore = machineCpuSeconds();
    const ticksBefore = processTicks();
    const started = Date.now();
    const handles = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        startPipeline(
          cluster.client,
          { ...definition, importance: i % 3 },
          {
            taskQueue: cluster.taskQueue,
            workflowId: `${tag}-${i}`,
          },
        ),
      ),
    );
    const results = await Promise.all(handles.map((h) => pipelineResult(h).catch(() => undefined)));
    const ended = Date.now();
    const out: RunResult = {
      setup,
      n,
      seconds: (ended - started) / 1000,
      cpuSeconds: machineCpuSeconds() - cpuBefore,
      cpuBy: cpuBetween(ticksBefore, processTicks()),
      completed: results.filter((r) => r?.status === 'completed').length,
      pipelineTaskMax: await pipelineTaskMax(handles),
    };
    if (!withResources) return out;
    const readsAfter = await tupleReads(db, cluster.schema);
    const { rows } = await db.query<{
      state: string;
      granted: number | null;
      ended: number | null;
      wait: number | null;
      pickup: number | null;
      successor: boolean;
      ahead: number | null;
      from_grant: number | null;
    }>(
      // A successor's capacity is its own from its promotion (its predecessor's end), not from its grant.
      `SELECT state, extract(epoch FROM coalesce(promoted_at, granted_at)) * 1000 AS granted,
              (promoted_at IS NOT NULL OR behind IS NOT NULL) AS successor,
              extract(epoch FROM promoted_at - granted_at) * 1000 AS ahead,
              extract(epoch FROM started_at - granted_at) * 1000 AS from_grant,
              extract(epoch FROM ended_at) * 1000 AS ended,
              extract(epoch FROM started_at - requested_at) * 1000 AS wait,
              extract(epoch FROM started_at - coalesce(promoted_at, granted_at)) * 1000 AS pickup
         FROM ${cluster.schema}.qm_reservations WHERE workflow_id LIKE $1`,
      [`${tag}-%`],
    );
    const grants = rows
      .map((r) => Number(r.granted))
      .filter((x) => Number.isFinite(x) && x > 0)
      .sort((a, b) => a - b);
    const waits = rows.map((r) => Number(r.wait)).filter((x) => Number.isFinite(x));
    let peak = 0;
    for (let i = 0, j = 0; i < grants.length; i++) {
      while ((grants[i] as number) - (grants[j] as number) > 1000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    const span =
      grants.length > 1 ? ((grants[grants.length - 1] as number) - (grants[0] as number)) / 1000 : 0;
    const sched = await schedulerLoad(cluster.client, started, ended);
    // Hand-over: for each grant made after the first release, the time since the latest release before it.
    const releases = rows
      .map((r) => Number(r.ended))
      .filter((x) => Number.isFinite(x) && x > 0)
      .sort((a, b) => a - b);
    const handOver: number[] = [];
    for (let i = 0, j = -1; i < grants.length; i++) {
      while (j + 1 < releases.length && (releases[j + 1] as number) <= (grants[i] as number)) j++;
      if (j >= 0) handOver.push((grants[i] as number) - (releases[j] as number));
    }
    const pickups = rows.filter((r) => r.pickup !== null).map((r) => Number(r.pickup));
    let heldMs = 0;
    let runningMs = 0;
    for (const r of rows) {
      const [g, e, p] = [Number(r.granted), Number(r.ended), Number(r.pickup)];
      if (!(g > 0 && e > 0)) continue;
      heldMs += e - g;
      if (r.pickup !== null) runningMs += Math.max(0, e - g - p);
    }
    return {
      ...out,
      sustained: span > 0 ? grants.length / span : grants.length,
      peak,
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
      expired: rows.filter((r) => r.state === 'expired').length,
      successors: rows.filter((r) => r.successor).length,
      ...successorTimes(rows),
      ...(handOver.length > 0 ? { handOverP50: percentile(handOver, 50) } : {}),
      pickupP50: percentile(pickups, 50),
      ...(heldMs > 0 ? { heldRunningPct: (100 * runningMs) / heldMs } : {}),
      schedulerSignals: sched.signals,
      schedulerTaskP99: sched.taskP99,
      schedulerCycles: sched.cycles,
      schedulerTaskMax: sched.taskMax,
      schedulerReplays: sched.replays,
      schedulerMaxWasReplay: sched.maxWasReplay,
      rowsPerRequest: (readsAfter - readsBefore) / n,
    };
  } finally {
    await db.end();
  }
}

/** Successor grants' lead and pickup (diagnostics: in the run's JSON line, not the table). */
function successorTimes(
  rows: ReadonlyArray<{ successor: boolean; ahead: number | null; from_grant: number | null }>,
): Pick<RunResult, 'aheadP50' | 'successorPickupP50'> {
  const ahead = rows.filter((r) => r.successor && r.ahead !== null).map((r) => Number(r.ahead));
  const pickup = rows.filter((r) => r.successor && r.from_grant !== null).map((r) => Number(r.from_grant));
  return {
    ...(ahead.length > 0 ? { aheadP50: percentile(ahead, 50) } : {}),
    ...(pickup.length > 0 ? { successorPickupP50: percentile(pickup, 50) } : {}),
  };
}

/** One setup's cluster and the label of its with-resources rows. */
interface Setup {
  key: string;
  label: string;
  name: string;
  nodes: NodeOptions[];
}

const SETUPS: Setup[] = [
  {
    key: 'one',
    label: 'cpu=1, one cpu=16 node',
    name: 'load1',
    nodes: [{ id: 'big', capacity: { cpu: 16 }, monitor: false }],
  },
  {
    key: 'four',
    label: 'cpu=1, four cpu=4 nodes',
    name: 'load4',
    nodes: [0, 1, 2, 3].map((i) => ({ id: `n${i}`, capacity: { cpu: 4 }, monitor: false })),
  },
  {
    // Throughput when the node is not the limit: every stage fits at once.
    key: 'wide',
    label: 'cpu=1, one cpu=100000 node (node not the limit)',
    name: 'loadw',
    nodes: [{ id: 'wide', capacity: { cpu: 100_000 }, monitor: false }],
  },
];

/** A setup's rows at one N: the median of its repeats, with and without resources, and the pair ratios. */
interface PairedResult {
  res: RunResult;
  noResSeconds: number;
  ratios: number[];
  /** Each pair's machine CPU time with resources over without. */
  cpuRatios: number[];
  /** The longest workflow task over every repeat: the scheduler's; a sample of pipelines' without and with resources. */
  longest: { scheduler: number; pipelinesNoRes: number; pipelinesRes: number };
}

function median(xs: number[]): number {
  return percentile(xs, 50);
}

/**
 * `npm run bench -- load [--setups=one,four,wide] [--repeats=R] [N...]`: N one-stage pipelines (qm.sleep 200 ms)
 * started at once on a real dev server and PostgreSQL, with cpu=1 each (on one cpu=16 node, on four cpu=4
 * nodes, on one node so large it is never the limit) and, on the same cluster, without resources: runs
 * alternate (without, with) R times, and each row is the median run, its ratio the median of the R pairs' ratios
 * (one 2-core machine runs everything: consecutive identical runs differ by up to ±30 %). Columns: completion
 * time, admissions/s (sustained and peak 1 s window), request → running p50/p99 from the ledger, grants expired
 * unused, release → next grant and grant → running p50, wake signals the scheduler received and its
 * workflow-task p99, and rows read from the ledger per request (pg_stat_user_tables). Default N: 100 300 1000,
 * R: 3.
 */
export async function run(args: string[]): Promise<void> {
  const option = (name: string): string | undefined =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = option('setups')?.split(',');
  const repeats = Number(option('repeats') ?? 3);
  const numbers = args.filter((a) => !a.startsWith('--'));
  const ns = numbers.length > 0 ? numbers.map(Number) : [100, 300, 1000];
  const rows: Array<{ setup: Setup; n: number; paired: PairedResult }> = [];
  for (const setup of SETUPS.filter((s) => only === undefined || only.includes(s.key))) {
    const cluster = await startBenchCluster({ name: setup.name, nodes: setup.nodes });
    try {
      for (const n of ns) {
        const without: RunResult[] = [];
        const withRes: RunResult[] = [];
        for (let r = 0; r < repeats; r++) {
          without.push(await runOnce(cluster, 'no resources', n, false));
          withRes.push(await runOnce(cluster, setup.label, n, true));
          process.stderr.write(`${JSON.stringify([without.at(-1), withRes.at(-1)])}\n`);
        }
        const ratios = withRes.map((w, i) => w.seconds / (without[i] as RunResult).seconds);
        const byTime = [...withRes].sort((a, b) => a.seconds - b.seconds);
        rows.push({
          setup,
          n,
          paired: {
            res: byTime[Math.floor((byTime.length - 1) / 2)] as RunResult,
            noResSeconds: median(without.map((w) => w.seconds)),
            cpuRatios: withRes.map(
              (w, i) => w.cpuSeconds / Math.max(0.01, (without[i] as RunResult).cpuSeconds),
            ),
            ratios,
            longest: {
              scheduler: Math.max(...withRes.map((w) => w.schedulerTaskMax ?? 0)),
              pipelinesNoRes: Math.max(...without.map((w) => w.pipelineTaskMax ?? 0)),
              pipelinesRes: Math.max(...withRes.map((w) => w.pipelineTaskMax ?? 0)),
            },
          },
        });
      }
    } finally {
      await cluster.close();
    }
  }
  const f = (x: number | undefined, d = 1): string => (x === undefined ? '' : x.toFixed(d));
  const body = [
    `N one-stage pipelines (qm.sleep 200 ms) started at once; one dev server, embedded PostgreSQL, workers in one`,
    `process; ${new Date().toISOString().slice(0, 10)}, this repo's 2-core machine. Each row: ${repeats} runs with resources`,
    'alternating with runs without (same cluster); the median run is shown, "× no-res" is the median of the pairs\'',
    'ratios (all of them in brackets). Times in s unless marked; waits (request → running) in ms from the ledger.',
    '',
    markdownTable(
      [
        'setup',
        'N',
        'completed',
        'no-res time s',
        'time s',
        '× no-res',
        'CPU × no-res',
        'adm/s sustained',
        'adm/s peak',
        'wait p50',
        'wait p99',
        'expired unused',
        'granted behind',
        'release → grant p50',
        'grant → running p50',
        'held capacity running %',
        'scheduler signals',
        'sched task p99 ms',
        'sched task max ms (all runs)',
        'pipeline task max ms, no-res / res (all runs)',
        'rows read / request',
      ],
      rows.map(({ setup, n, paired: { res: r, noResSeconds, ratios, cpuRatios, longest } }) => [
        setup.label,
        n,
        r.completed,
        f(noResSeconds),
        f(r.seconds),
        `${f(median(ratios), 2)} (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
        f(median(cpuRatios), 2),
        f(r.sustained),
        r.peak ?? '',
        f(r.p50, 0),
        f(r.p99, 0),
        r.expired ?? '',
        r.successors ?? '',
        f(r.handOverP50, 0),
        f(r.pickupP50, 0),
        f(r.heldRunningPct, 0),
        r.schedulerSignals ?? '',
        f(r.schedulerTaskP99, 0),
        f(longest.scheduler, 0),
        `${f(longest.pipelinesNoRes, 0)} / ${f(longest.pipelinesRes, 0)}`,
        f(r.rowsPerRequest),
      ]),
    ),
    '',
    READING,
  ].join('\n');
  writeBenchSection('load', 'Admission at load (admission issue)', body);
  process.stderr.write(`${body}\n`);
}

const READING = [
  'Reading it. Every run completes and no grant expires unused. A release hands its capacity on itself: it',
  'runs the scheduler\'s quick cycle inline under the ledger\'s cycle lock ("release → grant", ms), so the',
  'scheduler workflow is signalled only when it seems down or work is left after three inline cycles. A stage',
  'is admitted by a local activity inside the workflow task that reaches it when it fits on what is free (alone',
  'in the queue, or through a cycle run right there), or — alone in the queue — behind a stage that ends within',
  '1 s: no activity of its own, which is how nearly every stage is admitted when the node is not the limit. A',
  'stage that has to wait costs one more activity and one more workflow task (3 workflow tasks and 2 activities',
  'against 2 and 1). When the node is the limit, most waiting stages are "granted behind" a running stage',
  "expected to end within 1 s (successor grants): their pickup (the waiter's activity completing, a workflow",
  "task, the node's poll) overlaps the predecessor's run, and the capacity passes to them in the statement that",
  'ends it. "grant → running" counts from when the capacity became the stage\'s own (its promotion, for a',
  'successor); "held capacity running %" is the share of the time capacity was held that its stage ran. "CPU ×',
  'no-res" is the whole machine\'s CPU time (dev server, PostgreSQL, workers: /proc/stat) with resources over',
  'without, per pair: the runs share one 2-core machine that they saturate, and the time ratio follows the CPU',
  'ratio (each run\'s JSON line on stderr splits it by process: the dev server, PostgreSQL, the workers). "Rows',
  'read / request" counts every tuple the schema\'s tables returned divided by N; it grows with N, and from one',
  'repeat to the next, because the runs of a row share one schema that only a few hundred ended rows fill: with',
  'statistics taken mid-burst (most rows held) the planner scans that small table for the held sums, each',
  "request. With a history of ended rows it takes the held rows' index (checked with 600 to 50,000 ended rows;",
  'test/integration/ledger/live-rows.test.ts asserts no scan with 20,000). "sched task p99" (median run) and',
  '"max" (every run) are the scheduler workflow\'s task times (started → completed) during the burst, when the',
  'same process runs every pipeline\'s workflow tasks and activities; "pipeline task max" is the same for a',
  `sample of ${PIPELINE_SAMPLE} pipelines per run (every N/${PIPELINE_SAMPLE}th), without and with resources: the`,
  "process's saturation stretches any workflow's task alike. (A trial that gave the scheduler a Worker of its",
  'own, with its own workflow thread and cache, left its longest task where it was: 1.21 and 1.27 s in two of',
  '18 runs; none of the long tasks replayed the history.)',
].join('\n');
