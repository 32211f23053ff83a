import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import { pipelineResult, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { temporalPrometheusTelemetry } from '../../../src/metrics/temporal-runtime';
import { freePort, waitForPort } from '../../../src/services/free-port';
import { createQuartermasterWorker, type QuartermasterWorker } from '../../../src/worker/create-worker';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';

// A real Prometheus (Debian's `prometheus` package; .ci/run installs it) scrapes a real worker every second
// while pipelines contend for a 2-core node; then every PromQL expression of the Grafana dashboard is
// evaluated through Prometheus's HTTP API over the run and must return data, and `promtool check metrics`
// must accept a scrape.

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
const PROMTOOL = process.env.PROMTOOL_BIN ?? 'promtool';
const DASHBOARD = path.join(__dirname, '..', '..', '..', 'deploy', 'grafana', 'quartermaster.json');

let db: Database;
let worker: QuartermasterWorker;
let running: Promise<void>;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let prometheus: ChildProcess;
let prometheusUrl: string;
let tmp: string;
let taskQueue: string;
let runStart: number;
const logs: LogEntry[] = [];
const workflowIds: string[] = [];

function requireTool(bin: string): void {
  const found = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      `${bin} not found: install Debian's prometheus package (apt-get install prometheus; .ci/run does) ` +
        'or set PROMETHEUS_BIN / PROMTOOL_BIN',
    );
  }
}

beforeAll(async () => {
  requireTool(PROMETHEUS);
  requireTool(PROMTOOL);
  const sdkPort = await freePort();
  // Debug level, captured: the cycle and grant log lines are checked below.
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) => void logs.push(entry)),
    telemetryOptions: temporalPrometheusTelemetry(`127.0.0.1:${sdkPort}`),
  });
  db = await openTestDatabase('qm_metrics');
  taskQueue = uniqueId('qm-metrics');
  nativeConnection = await NativeConnection.connect({ address: testEnv.temporalAddress });
  worker = await createQuartermasterWorker({
    connection: nativeConnection,
    taskQueue,
    schedulerWorkflowId: `scheduler-${taskQueue}`,
    databaseUrl: testEnv.databaseUrl,
    schema: db.schema,
    // Monitored, so forecasts and their error are published; declared well above the host's own load so
    // that load (other processes on this machine) leaves room for three 2-core stages at a time.
    node: { id: 'm1', capacity: { cpu: 8, memoryMb: 4096 }, monitor: true },
    workflowBundle: { codePath: testEnv.workflowBundlePath },
    workerOptions: { shutdownGraceTime: '1s' },
    metrics: { port: 0, host: '127.0.0.1', temporalMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics` },
  });
  running = worker.run();
  const metricsUrl = await until(async () => worker.metricsUrl);
  connection = await Connection.connect({ address: testEnv.temporalAddress });
  client = new Client({ connection });

  tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-prometheus-'));
  const target = new URL(metricsUrl).host;
  writeFileSync(
    path.join(tmp, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: quartermaster',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const promPort = await freePort();
  prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prometheus.stderr?.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  await waitForPort('127.0.0.1', promPort, 30_000).catch((err: unknown) => {
    throw new Error(`prometheus did not start: ${String(err)}\n${promLog}`);
  });
  await until(async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  runStart = Date.now() / 1000;
  // The first scrape must see the counters before anything happens, or the run's increase is invisible.
  await until(async () => {
    const up = await queryRange('up', Date.now() / 1000 - 1, Date.now() / 1000);
    return up.data?.result[0]?.values.some(([, v]) => v === '1') ? true : undefined;
  });
}, 90_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  worker?.shutdown();
  await running?.catch(() => undefined);
  await nativeConnection?.close();
  await connection?.close();
  if (db) await dropSchema(db);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stage(id: string, priority: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    handler: 'qm.sleep',
    priority,
    input: { ms: 1500 },
    resources: { desired: { cpu: 2 } },
    ...extra,
  };
}

async function start(definition: unknown): Promise<WorkflowHandle> {
  const workflowId = uniqueId('metrics');
  workflowIds.push(workflowId);
  return startPipeline(client, definition, { taskQueue, workflowId });
}

interface RangeResult {
  status: string;
  error?: string;
  data?: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

async function queryRange(expr: string, startS: number, endS: number): Promise<RangeResult> {
  const url = new URL(`${prometheusUrl}/api/v1/query_range`);
  url.searchParams.set('query', expr);
  url.searchParams.set('start', String(startS));
  url.searchParams.set('end', String(endS));
  url.searchParams.set('step', '1');
  return (await (await fetch(url)).json()) as RangeResult;
}

/** Every `expr` of the dashboard, with Grafana's `$__rate_interval` as Grafana would expand it here. */
function dashboardExpressions(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '30s') })),
  );
}

test('a real Prometheus scrapes the worker while pipelines run; every dashboard expression returns data', async () => {
  // Contention on an 8-core node: 14 two-core stages at priorities 1–10, one stage that gets a reduced
  // grant (desires 16, accepts 2), one that fails, one boosted pipeline.
  // Alone in the queue first: admitted on the fast path.
  await pipelineResult(await start({ name: 'alone', stages: [stage('work', 5, { input: { ms: 100 } })] }));
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < 14; i++)
    handles.push(await start({ name: `load-${i}`, stages: [stage('work', (i % 10) + 1)] }));
  handles.push(
    await start({
      name: 'reduced',
      stages: [stage('work', 9, { resources: { desired: { cpu: 16 }, minimum: { cpu: 2 } } })],
    }),
  );
  handles.push(
    await start({
      name: 'failing',
      stages: [
        {
          id: 'boom',
          handler: 'qm.fail',
          priority: 5,
          input: { failTimes: 5 },
          retry: { maximumAttempts: 1 },
        },
      ],
    }),
  );
  const boosted = await start({ name: 'boosted', stages: [stage('work', 2, { input: { ms: 3000 } })] });
  handles.push(boosted);
  await boosted.executeUpdate('boost', { args: [{ amount: 1, ttlSeconds: 600, reason: 'metrics test' }] });
  // The failing pipeline fails; the rest complete.
  await Promise.all(handles.map((h) => pipelineResult(h).catch(() => undefined)));
  await worker.plugin.observer.flush();
  // Forecast errors need 5 s of samples past the first forecast; rate() needs two scrapes of every series.
  const elapsed = Date.now() / 1000 - runStart;
  await new Promise((r) => setTimeout(r, Math.max(0, 9 - elapsed) * 1000 + 3000));

  const end = Date.now() / 1000;
  const failures: string[] = [];
  const expressions = dashboardExpressions();
  expect(expressions.length).toBeGreaterThanOrEqual(30);
  for (const { panel, expr } of expressions) {
    const r = await queryRange(expr, runStart, end);
    const finite = (r.data?.result ?? []).some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
    if (r.status !== 'success' || !finite)
      failures.push(
        `${panel}: ${expr} → ${r.status} ${r.error ?? ''} ${JSON.stringify(r.data?.result ?? []).slice(0, 200)}`,
      );
  }
  expect(failures).toEqual([]);

  // Spot checks that the numbers mean what they say.
  const admitted = await queryRange('sum(quartermaster_admissions_total)', end - 1, end);
  expect(Number(admitted.data?.result[0]?.values.at(-1)?.[1])).toBeGreaterThanOrEqual(16);
  const reduced = await queryRange('sum(quartermaster_reduced_grants_total)', end - 1, end);
  expect(Number(reduced.data?.result[0]?.values.at(-1)?.[1])).toBeGreaterThanOrEqual(1);
  const failed = await queryRange(
    'sum(quartermaster_stage_runs_total{handler="qm.fail",outcome="failed"})',
    end - 1,
    end,
  );
  expect(Number(failed.data?.result[0]?.values.at(-1)?.[1])).toBeGreaterThanOrEqual(1);
  const boosts = await queryRange('max_over_time(quartermaster_boosts_active[1h])', end - 1, end);
  expect(Number(boosts.data?.result[0]?.values.at(-1)?.[1])).toBe(1);
}, 120_000);

test('promtool check metrics accepts a scrape; no workflow id appears in it', async () => {
  const text = await (await fetch(worker.metricsUrl as string)).text();
  expect(text).toContain('quartermaster_admissions_total');
  expect(text).toContain('temporal_');
  expect(text).toContain('quartermaster_temporal_metrics_up 1');
  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect({ status: check.status, out: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, out: '' });
  for (const id of workflowIds) expect(text).not.toContain(id);
});

test('one debug line per cycle (decisions, duration) and one info line per grant with the workflow id', () => {
  const cycles = logs.filter((l) => l.message === 'scheduling cycle');
  expect(cycles.length).toBeGreaterThan(0);
  expect(cycles.every((l) => l.level === 'DEBUG')).toBe(true);
  expect(cycles[0]?.meta).toEqual(
    expect.objectContaining({ durationMs: expect.any(Number), decisions: expect.any(Object) }),
  );
  const grants = logs.filter((l) => l.message === 'stage granted');
  expect(grants.every((l) => l.level === 'INFO')).toBe(true);
  const granted = new Set(grants.map((l) => (l.meta as { workflowId?: string }).workflowId));
  // Every pipeline with resources was granted once (the failing one has no resources).
  expect(workflowIds.filter((id) => !granted.has(id))).toHaveLength(1);
  expect(new Set(grants.map((l) => (l.meta as { path?: string }).path))).toEqual(new Set(['fast', 'cycle']));
});
