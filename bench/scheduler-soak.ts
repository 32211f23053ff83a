/**
 * `npm run bench -- scheduler-soak [MINUTES] [PENDING]`: the singleton scheduler workflow over a long stretch
 * with many requests waiting (admission issue: "the scheduler over 30 min at 1,000 pending"; defaults 30 and
 * 1,000). A real dev server, PostgreSQL and worker; the requests are written straight into the ledger (its
 * input is the ledger, not its signals) behind a running grant that holds the whole node, so every cycle
 * decides 1,000 waits. Measures, over every run of the scheduler (continue-as-new included): history events
 * and bytes, runs, workflow task p50/p99 (from the histories), and the `queue` query's and describe's latency
 * sampled every 15 s while it runs.
 */
import type { Client } from '@temporalio/client';
import { DEFAULT_SCHEDULER_WORKFLOW_ID } from '../src/admission/constants';
import { queueQuery } from '../src/admission/messages';
import { commitDecisions } from '../src/ledger/commit';
import { openDatabase } from '../src/ledger/db';
import { markRunning, requestReservation } from '../src/ledger/reservations';
import { startBenchCluster } from './cluster';
import { markdownTable, percentile, writeBenchSection } from './report';

const LEASE_MS = 3 * 3_600_000; // nobody renews the bench's requests: longer than the soak
const SAMPLE_MS = 15_000;

interface RunStats {
  runId: string;
  events: number;
  bytes: number;
  taskMs: number[];
  signals: number;
}

/** Every run of the scheduler (newest first, as listed), with its events, bytes and workflow task times. */
async function schedulerRuns(client: Client): Promise<RunStats[]> {
  const out: RunStats[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${DEFAULT_SCHEDULER_WORKFLOW_ID}'` })) {
    const handle = client.workflow.getHandle(w.workflowId, w.runId);
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const taskMs: number[] = [];
    let started: number | undefined;
    let signals = 0;
    for (const e of events) {
      const t =
        e.eventTime?.seconds == null
          ? 0
          : Number(e.eventTime.seconds) * 1000 + (e.eventTime.nanos ?? 0) / 1e6;
      if (e.workflowTaskStartedEventAttributes) started = t;
      if (e.workflowTaskCompletedEventAttributes && started !== undefined) {
        taskMs.push(t - started);
        started = undefined;
      }
      if (e.workflowExecutionSignaledEventAttributes) signals += 1;
    }
    const d = await handle.describe();
    out.push({ runId: w.runId, events: events.length, bytes: d.historySize ?? 0, taskMs, signals });
  }
  return out;
}

/** Runs the soak and writes its section. */
export async function run(args: string[]): Promise<void> {
  const minutes = Number(args[0] ?? 30);
  const pending = Number(args[1] ?? 1000);
  const cluster = await startBenchCluster({
    name: 'soak',
    nodes: [{ id: 'big', capacity: { cpu: 16 }, monitor: false }],
  });
  const queryMs: number[] = [];
  const describeMs: number[] = [];
  let failedSamples = 0;
  let runs: RunStats[];
  try {
    const db = await openDatabase({ connectionString: cluster.databaseUrl, schema: cluster.schema });
    try {
      // Wait for the node to register (the worker's agent heartbeats it into the ledger).
      for (let k = 0; k < 100; k++) {
        const r = await db.pool
          .query(`SELECT 1 FROM ${db.schema}.qm_nodes WHERE id = 'big'`)
          .catch(() => null);
        if (r !== null && (r.rowCount ?? 0) > 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      await requestReservation(db, {
        key: 'soak-blocker',
        workflowId: 'soak-blocker',
        stageId: 'b',
        priority: 5,
        desired: { cpu: 16 },
        leaseMs: LEASE_MS,
      });
      await commitDecisions(db, [
        { key: 'soak-blocker', nodeId: 'big', granted: { cpu: 16 }, leaseMs: LEASE_MS },
      ]);
      await markRunning(db, 'soak-blocker', LEASE_MS);
      for (let i = 0; i < pending; i++)
        await requestReservation(db, {
          key: `soak-${i}`,
          workflowId: `soak-${i}`,
          stageId: 's',
          priority: 1 + (i % 10),
          desired: { cpu: 1 + (i % 4) },
          expectedSeconds: 60,
          leaseMs: LEASE_MS,
        });
    } finally {
      await db.close();
    }
    // Start the scheduler (a wake starts it when it is not running).
    await cluster.client.workflow.signalWithStart('schedulerWorkflow', {
      workflowId: DEFAULT_SCHEDULER_WORKFLOW_ID,
      taskQueue: cluster.taskQueue,
      args: [{}],
      signal: 'wake',
      signalArgs: [],
    });
    const end = Date.now() + minutes * 60_000;
    while (Date.now() < end) {
      await new Promise((res) => setTimeout(res, SAMPLE_MS));
      const h = cluster.client.workflow.getHandle(DEFAULT_SCHEDULER_WORKFLOW_ID);
      try {
        const t0 = performance.now();
        const q = await h.query(queueQuery);
        queryMs.push(performance.now() - t0);
        const t1 = performance.now();
        await h.describe();
        describeMs.push(performance.now() - t1);
        process.stderr.write(
          `[soak] ${((end - Date.now()) / 60_000).toFixed(1)} min left: ${q.cycles} cycles this run, ${q.entries.length} rows\n`,
        );
      } catch (err) {
        failedSamples += 1;
        process.stderr.write(`[soak] sample failed: ${String(err)}\n`);
      }
    }
    runs = await schedulerRuns(cluster.client);
  } finally {
    await cluster.close();
  }
  const events = runs.reduce((a, r) => a + r.events, 0);
  const bytes = runs.reduce((a, r) => a + r.bytes, 0);
  const tasks = runs.flatMap((r) => r.taskMs);
  const fmt = (x: number): string => x.toFixed(0);
  const body = `The singleton scheduler over ${minutes} min with ${pending.toLocaleString('en-US')} requests waiting
(\`bench/scheduler-soak.ts\`): one dev server, embedded PostgreSQL and worker on this 2-core machine; the
requests are written straight into the ledger behind a running grant holding the whole node (cpu 16), so every
cycle decides ${pending.toLocaleString('en-US')} waits; nothing changes, so it cycles on its ${'5 s'} tick and refreshes the full queue
(wait notes, the \`queue\` query's 200 rows) every 60 s. Before that change the refresh ran on every tick:
~820 KiB of history a minute, measured with 300 waiting. Every run counted (continue-as-new included).

${markdownTable(
  [
    'runs',
    'events',
    'bytes',
    'events / min',
    'KiB / min',
    'most events in one run',
    'signals',
    'task p50 ms',
    'task p99 ms',
    'task max ms',
    'queue query p50 / p99 ms',
    'describe p50 / p99 ms',
    'failed samples',
  ],
  [
    [
      runs.length,
      events,
      bytes,
      (events / minutes).toFixed(0),
      (bytes / 1024 / minutes).toFixed(0),
      Math.max(0, ...runs.map((r) => r.events)),
      runs.reduce((a, r) => a + r.signals, 0),
      fmt(percentile(tasks, 50)),
      fmt(percentile(tasks, 99)),
      fmt(Math.max(0, ...tasks)),
      `${fmt(percentile(queryMs, 50))} / ${fmt(percentile(queryMs, 99))}`,
      `${fmt(percentile(describeMs, 50))} / ${fmt(percentile(describeMs, 99))}`,
      failedSamples,
    ],
  ],
)}`;
  writeBenchSection('scheduler-soak', 'The scheduler at length (admission issue)', body);
  process.stderr.write(`${body}\n`);
}
