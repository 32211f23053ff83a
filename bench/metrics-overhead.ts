import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type ActivityInterceptorsFactory,
} from '@temporalio/worker';
import { pipelineResult, startPipeline } from '../src/client';
import { startEmbeddedPostgres } from '../src/ledger/embedded';
import { QuartermasterMetrics } from '../src/metrics/quartermaster-metrics';
import { freePort } from '../src/services/free-port';
import { startTemporalDevServer } from '../src/services/temporal-dev-server';
import { createQuartermasterWorker } from '../src/worker/create-worker';
import { markdownTable, percentile, writeBenchSection } from './report';

type Mode = 'off' | 'on';

interface Round {
  mode: Mode;
  admissionsPerSecond: number;
  cycleMs: number[];
  scrapes: number;
  /** CPU time of this process (worker + client) per admission in the burst, ms. */
  cpuMsPerAdmission: number;
  /** Wall time of each scrape of /metrics (ledger read + serialisation), ms. */
  scrapeMs: number[];
}

/** Records every scheduleCycle's wall time, in both modes alike (so it costs the same in both). */
function cycleTimer(into: number[]): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      execute: async (input, next) => {
        if (ctx.info.activityType !== 'scheduleCycle') return next(input);
        const t = performance.now();
        try {
          return await next(input);
        } finally {
          into.push(performance.now() - t);
        }
      },
    },
  });
}

/** ns per call of `fn`, best of 5 batches of `n`. */
function nsPerCall(n: number, fn: (i: number) => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let b = 0; b < 5; b++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / n);
  }
  return best;
}

/**
 * `npm run bench -- metrics [PIPELINES] [ROUNDS]`: metrics overhead end to end, in one run on one dev server
 * and PostgreSQL. Rounds alternate off/on (ABBA order, so drift on a shared machine cancels): each round is a
 * fresh worker (metrics on: `/metrics` served, ledger gauges, and scraped every second — 15× Prometheus's
 * default rate) on a fresh ledger schema, with a 4-core node and PIPELINES one-stage pipelines (`qm.echo`,
 * 1 cpu) started at once, so admission — not the handlers — is the bottleneck. Admissions/s = PIPELINES /
 * (first start → last result); cycle times are every scheduleCycle activity's wall time in the burst. Also
 * the cost of each metrics call alone, to bound the overhead without the machine's noise.
 */
export async function run(args: string[]): Promise<void> {
  const pipelines = Number(args[0] ?? 120);
  const roundPairs = Number(args[1] ?? 3);
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Another benchmark in this process (npm run bench, all of them) installed it already.
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-bench-metrics-'));
  chmodSync(tmp, 0o755);
  const [temporal, pg] = await Promise.all([
    startTemporalDevServer(),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port })),
  ]);
  const databaseUrl = process.env.DATABASE_URL ?? (pg?.connectionString as string);
  const native = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const rounds: Round[] = [];
  const order: Mode[] = [];
  for (let i = 0; i < roundPairs; i++)
    order.push(...((i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as Mode[]));
  try {
    for (const [r, mode] of order.entries()) {
      const cycleMs: number[] = [];
      const taskQueue = `bench-metrics-${r}-${Date.now()}`;
      const worker = await createQuartermasterWorker({
        connection: native,
        taskQueue,
        schedulerWorkflowId: `scheduler-${taskQueue}`,
        databaseUrl,
        schema: `bench_metrics_${r}_${Date.now()}`,
        node: { id: 'bench', capacity: { cpu: 4 }, monitor: false },
        workerOptions: { interceptors: { activity: [cycleTimer(cycleMs)] } },
        ...(mode === 'on' ? { metrics: { port: 0, host: '127.0.0.1' } } : {}),
      });
      const running = worker.run();
      const definition = (i: number) => ({
        name: 'metrics-bench',
        stages: [{ id: 'w', handler: 'qm.echo', priority: (i % 10) + 1, resources: { desired: { cpu: 1 } } }],
      });
      let scrapes = 0;
      const scrapeMs: number[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          // warm-up: bundle, pool connections, the scheduler's first start
          await pipelineResult(
            await startPipeline(client, definition(i), { taskQueue, workflowId: `${taskQueue}-warm-${i}` }),
          );
        }
        cycleMs.length = 0;
        let scraping = true;
        const scraper = (async () => {
          while (scraping && worker.metricsUrl !== undefined) {
            const t = performance.now();
            await (await fetch(worker.metricsUrl)).text();
            scrapeMs.push(performance.now() - t);
            scrapes++;
            await new Promise((res) => setTimeout(res, 1000));
          }
        })();
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const handles = await Promise.all(
          Array.from({ length: pipelines }, (_, i) =>
            startPipeline(client, definition(i), { taskQueue, workflowId: `${taskQueue}-${i}` }),
          ),
        );
        await Promise.all(handles.map((h) => pipelineResult(h)));
        const seconds = (performance.now() - t0) / 1000;
        scraping = false;
        await scraper;
        const cpu = process.cpuUsage(cpu0);
        const cpuMsPerAdmission = (cpu.user + cpu.system) / 1000 / pipelines;
        rounds.push({
          mode,
          admissionsPerSecond: pipelines / seconds,
          cycleMs: [...cycleMs],
          scrapes,
          scrapeMs,
          cpuMsPerAdmission,
        });
        process.stderr.write(
          `[bench] round ${r + 1}/${order.length} metrics ${mode}: ${(pipelines / seconds).toFixed(1)} admissions/s, ` +
            `${cycleMs.length} cycles, p99 ${percentile(cycleMs, 99).toFixed(1)} ms, ${cpuMsPerAdmission.toFixed(2)} CPU ms/admission, ${scrapes} scrapes\n`,
        );
      } finally {
        worker.shutdown();
        await running.catch(() => undefined);
      }
    }
  } finally {
    await native.close();
    await connection.close();
    await Promise.all([temporal.stop(), pg?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }

  // The metrics calls alone (what a cycle and a grant add on the hot path).
  const m = new QuartermasterMetrics({ processMetrics: false });
  const report = {
    granted: 3,
    rejected: 0,
    waiting: 5,
    expired: 0,
    shrinkOffers: 0,
    durationMs: 4,
    queue: Array.from({ length: 8 }, (_, i) => ({
      key: `k${i}`,
      workflowId: 'w',
      stageId: 's',
      priority: i + 1,
      decision: i < 3 ? 'grant' : 'wait',
      reason: '',
    })),
  };
  const cycleNs = nsPerCall(20_000, () => m.observeCycle(report, 0.004));
  const grantNs = nsPerCall(20_000, (i) =>
    m.observeGrant('cycle', { priority: (i % 10) + 1, waitSeconds: 0.2, reduced: false }),
  );
  const txNs = nsPerCall(20_000, () =>
    m.observeTransaction({ operation: 'commit decisions', seconds: 0.001, outcome: 'committed', result: {} }),
  );

  const pooled = (mode: Mode) => rounds.filter((r) => r.mode === mode);
  const median = (xs: number[]) => percentile(xs, 50);
  const rate = (mode: Mode) => median(pooled(mode).map((r) => r.admissionsPerSecond));
  const cpu = (mode: Mode) => median(pooled(mode).map((r) => r.cpuMsPerAdmission));
  const cycles = (mode: Mode) => pooled(mode).flatMap((r) => r.cycleMs);
  const offRate = rate('off');
  const onRate = rate('on');
  const offP99 = percentile(cycles('off'), 99);
  const onP99 = percentile(cycles('on'), 99);
  const scrapes = rounds.flatMap((r) => r.scrapeMs);
  const spread = (xs: number[]) =>
    `${(((Math.max(...xs) - Math.min(...xs)) / percentile(xs, 50)) * 100).toFixed(0)} %`;
  const pct = (on: number, off: number) => `${(((on - off) / off) * 100).toFixed(1)} %`;
  const body = [
    `One dev server and PostgreSQL; ${order.length} rounds alternating metrics off/on (${order.join(', ')}), each a fresh`,
    `worker and ledger schema with a 4-core node and ${pipelines} one-stage pipelines (\`qm.echo\`, 1 cpu) started`,
    'at once. Metrics on = `/metrics` served with the ledger gauges and scraped every second (15× the default',
    'Prometheus interval); the Temporal SDK Runtime telemetry is off in both modes (it is native code, independent',
    'of this switch). Admissions/s = pipelines / (first start → last result), median of rounds; cycle = every',
    '`scheduleCycle` activity in the bursts, pooled. CPU ms / admission = user + system CPU of this process (the',
    'worker, its scrapes, and the client starting pipelines — the same client work in both modes) over the burst',
    '/ pipelines: less sensitive than wall time to the other processes sharing the machine.',
    '',
    markdownTable(
      [
        'round',
        'metrics',
        'admissions/s',
        'CPU ms / admission',
        'cycles',
        'cycle p50 ms',
        'cycle p99 ms',
        'scrapes',
      ],
      rounds.map((r, i) => [
        i + 1,
        r.mode,
        r.admissionsPerSecond.toFixed(1),
        r.cpuMsPerAdmission.toFixed(2),
        r.cycleMs.length,
        percentile(r.cycleMs, 50).toFixed(1),
        percentile(r.cycleMs, 99).toFixed(1),
        r.scrapes,
      ]),
    ),
    '',
    markdownTable(
      ['', 'metrics off', 'metrics on', 'on vs off'],
      [
        ['admissions/s (median of rounds)', offRate.toFixed(1), onRate.toFixed(1), pct(onRate, offRate)],
        [
          'CPU ms / admission, this process (median of rounds)',
          cpu('off').toFixed(2),
          cpu('on').toFixed(2),
          pct(cpu('on'), cpu('off')),
        ],
        [
          'cycle p50 ms (pooled)',
          percentile(cycles('off'), 50).toFixed(1),
          percentile(cycles('on'), 50).toFixed(1),
          pct(percentile(cycles('on'), 50), percentile(cycles('off'), 50)),
        ],
        ['cycle p99 ms (pooled)', offP99.toFixed(1), onP99.toFixed(1), pct(onP99, offP99)],
      ],
    ),
    '',
    `Noise floor: the metrics-off rounds alone spread ${spread(pooled('off').map((r) => r.admissionsPerSecond))} in admissions/s,`,
    `${spread(pooled('off').map((r) => r.cpuMsPerAdmission))} in CPU ms / admission and ${spread(pooled('off').map((r) => percentile(r.cycleMs, 99)))} in cycle p99 ((max − min) / median), on a`,
    `machine whose load average was ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores at the end; a difference inside that spread is not a measured overhead.`,
    '',
    `The metrics calls alone: one cycle's \`observeCycle\` ${(cycleNs / 1000).toFixed(2)} µs, one grant's \`observeGrant\``,
    `${(grantNs / 1000).toFixed(2)} µs, one ledger transaction's observer ${(txNs / 1000).toFixed(2)} µs — against a cycle p50 of`,
    `${percentile(cycles('off'), 50).toFixed(1)} ms, i.e. ${((cycleNs / 1e6 / percentile(cycles('off'), 50)) * 100).toFixed(3)} % of a cycle for the cycle's own bookkeeping.`,
    `One scrape of \`/metrics\` (the ledger read and serialisation, under load) took p50 ${percentile(scrapes, 50).toFixed(1)} ms,`,
    `p99 ${percentile(scrapes, 99).toFixed(1)} ms (${scrapes.length} scrapes): at Prometheus's default 15 s interval, ${((percentile(scrapes, 50) / 15000) * 100).toFixed(2)} % of one core.`,
  ].join('\n');
  writeBenchSection('metrics', 'Metrics overhead (observability issue)', body);
  process.stderr.write(`${body}\n`);
}
