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
import { createQuartermasterWorker, type QuartermasterWorker } from '../src/worker/create-worker';
import { markdownTable, percentile, writeBenchSection } from './report';

type Mode = 'off' | 'on';
const MODES: readonly Mode[] = ['off', 'on'];

interface Side {
  admissionsPerSecond: number;
  cycleMs: number[];
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

const definition = (i: number) => ({
  name: 'metrics-bench',
  stages: [{ id: 'w', handler: 'qm.echo', priority: (i % 10) + 1, resources: { desired: { cpu: 1 } } }],
});

/**
 * `npm run bench -- metrics [PIPELINES] [ROUNDS] [SCRAPE_MS]`: metrics overhead end to end, as a concurrent
 * A/B test in one run: each round starts two clusters side by side on one dev server and PostgreSQL — a
 * worker without metrics and one with them (`/metrics` served with the ledger gauges, scraped every SCRAPE_MS,
 * default 1000: 15× Prometheus's default rate) — each with its own task queue, scheduler, ledger schema and
 * 4-core node, and bursts PIPELINES one-stage pipelines (`qm.echo`, 1 cpu) into both at once, interleaved, so
 * both sides see the same machine at the same moments (this machine is shared: sequential rounds differed by
 * 30–70 % from each other with nothing changed). Admissions/s = PIPELINES / (first start → last result) per
 * side; cycle times are every scheduleCycle activity's wall time. Also the cost of each metrics call alone.
 */
export async function run(args: string[]): Promise<void> {
  const pipelines = Number(args[0] ?? 100);
  const rounds = Number(args[1] ?? 4);
  const scrapeEveryMs = Number(args[2] ?? 1000);
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
  const results: Array<Record<Mode, Side>> = [];
  const loads: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const sides = new Map<Mode, { worker: QuartermasterWorker; taskQueue: string; cycleMs: number[] }>();
      const runs: Array<Promise<void>> = [];
      try {
        for (const mode of MODES) {
          const cycleMs: number[] = [];
          const taskQueue = `bench-metrics-${mode}-${r}-${Date.now()}`;
          const worker = await createQuartermasterWorker({
            connection: native,
            taskQueue,
            schedulerWorkflowId: `scheduler-${taskQueue}`,
            databaseUrl,
            schema: `bench_metrics_${mode}_${r}_${Date.now()}`,
            node: { id: `bench-${mode}`, capacity: { cpu: 4 }, monitor: false },
            workerOptions: { interceptors: { activity: [cycleTimer(cycleMs)] } },
            ...(mode === 'on' ? { metrics: { port: 0, host: '127.0.0.1' } } : {}),
          });
          sides.set(mode, { worker, taskQueue, cycleMs });
          // Run at once: a created Worker holds the connection until it has run and stopped.
          runs.push(worker.run());
        }
        // Warm-up: bundles, pool connections, each scheduler's first start.
        for (let i = 0; i < 5; i++) {
          await Promise.all(
            [...sides.values()].map(async (s) =>
              pipelineResult(
                await startPipeline(client, definition(i), {
                  taskQueue: s.taskQueue,
                  workflowId: `${s.taskQueue}-warm-${i}`,
                }),
              ),
            ),
          );
        }
        for (const s of sides.values()) s.cycleMs.length = 0;
        const on = sides.get('on');
        let scraping = true;
        const scrapeMs: number[] = [];
        const scraper = (async () => {
          while (scraping && on?.worker.metricsUrl !== undefined) {
            const t = performance.now();
            await (await fetch(on.worker.metricsUrl)).text();
            scrapeMs.push(performance.now() - t);
            await new Promise((res) => setTimeout(res, scrapeEveryMs));
          }
        })();
        // Interleaved starts, the first side alternating by round.
        const order = r % 2 === 0 ? MODES : [...MODES].reverse();
        const t0 = performance.now();
        const done = new Map<Mode, Promise<number>>();
        const handles = new Map<Mode, Array<ReturnType<typeof startPipeline>>>(order.map((m) => [m, []]));
        for (let i = 0; i < pipelines; i++) {
          for (const mode of order) {
            const s = sides.get(mode);
            if (s === undefined) continue;
            handles.get(mode)?.push(
              startPipeline(client, definition(i), {
                taskQueue: s.taskQueue,
                workflowId: `${s.taskQueue}-${i}`,
              }),
            );
          }
        }
        for (const mode of order) {
          done.set(
            mode,
            Promise.all(handles.get(mode) ?? [])
              .then((hs) => Promise.all(hs.map((h) => pipelineResult(h))))
              .then(() => (performance.now() - t0) / 1000),
          );
        }
        const seconds = {
          off: await (done.get('off') as Promise<number>),
          on: await (done.get('on') as Promise<number>),
        };
        scraping = false;
        await scraper;
        loads.push(os.loadavg()[0] ?? Number.NaN);
        const side = (mode: Mode): Side => ({
          admissionsPerSecond: pipelines / seconds[mode],
          cycleMs: [...(sides.get(mode)?.cycleMs ?? [])],
          scrapeMs: mode === 'on' ? scrapeMs : [],
        });
        const round = { off: side('off'), on: side('on') };
        results.push(round);
        process.stderr.write(
          `[bench] round ${r + 1}/${rounds}: ` +
            MODES.map(
              (m) =>
                `metrics ${m} ${round[m].admissionsPerSecond.toFixed(1)} admissions/s, cycle p99 ${percentile(round[m].cycleMs, 99).toFixed(0)} ms`,
            ).join('; ') +
            `; ${scrapeMs.length} scrapes\n`,
        );
      } finally {
        for (const s of sides.values()) s.worker.shutdown();
        await Promise.all(runs.map((p) => p.catch(() => undefined)));
      }
    }
  } catch (err) {
    process.stderr.write(`[bench] metrics failed: ${(err as Error).stack ?? String(err)}\n`);
    throw err;
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

  const rate = (mode: Mode) =>
    percentile(
      results.map((x) => x[mode].admissionsPerSecond),
      50,
    );
  const cycles = (mode: Mode) => results.flatMap((x) => x[mode].cycleMs);
  const scrapes = results.flatMap((x) => x.on.scrapeMs);
  const pct = (on: number, off: number) => `${(((on - off) / off) * 100).toFixed(1)} %`;
  const ratios = results.map((x) => x.on.admissionsPerSecond / x.off.admissionsPerSecond);
  const offP50 = percentile(cycles('off'), 50);
  const body = [
    `A concurrent A/B test: ${rounds} rounds, each two clusters side by side on one dev server and PostgreSQL — a`,
    `worker without metrics and one with them (\`/metrics\` served with the ledger gauges and scraped every`,
    `${scrapeEveryMs} ms, ${(15000 / scrapeEveryMs).toFixed(0)}× Prometheus's default rate), each with its own task queue, scheduler, ledger schema and`,
    `4-core node — and ${pipelines} one-stage pipelines (\`qm.echo\`, 1 cpu) started into each at once, interleaved, so`,
    'both sides meet the same machine at the same moments (sequential rounds on this shared 2-core machine',
    'differed by 30–70 % with nothing changed). The Temporal SDK Runtime telemetry is off on both sides (native',
    'code, independent of this switch). Admissions/s = pipelines / (first start → last result); cycle = every',
    '`scheduleCycle` activity of the burst.',
    '',
    markdownTable(
      [
        'round',
        'off: admissions/s',
        'on: admissions/s',
        'on / off',
        'off: cycle p99 ms',
        'on: cycle p99 ms',
        'scrapes',
      ],
      results.map((x, i) => [
        i + 1,
        x.off.admissionsPerSecond.toFixed(1),
        x.on.admissionsPerSecond.toFixed(1),
        (ratios[i] ?? Number.NaN).toFixed(3),
        percentile(x.off.cycleMs, 99).toFixed(0),
        percentile(x.on.cycleMs, 99).toFixed(0),
        x.on.scrapeMs.length,
      ]),
    ),
    '',
    markdownTable(
      ['', 'metrics off', 'metrics on', 'on vs off'],
      [
        [
          'admissions/s (median of rounds)',
          rate('off').toFixed(2),
          rate('on').toFixed(2),
          pct(rate('on'), rate('off')),
        ],
        [
          'cycle p50 ms (pooled)',
          offP50.toFixed(1),
          percentile(cycles('on'), 50).toFixed(1),
          pct(percentile(cycles('on'), 50), offP50),
        ],
        [
          'cycle p99 ms (pooled)',
          percentile(cycles('off'), 99).toFixed(1),
          percentile(cycles('on'), 99).toFixed(1),
          pct(percentile(cycles('on'), 99), percentile(cycles('off'), 99)),
        ],
      ],
    ),
    '',
    'Both workers share this one Node process (as well as the dev server and PostgreSQL), so a per-process CPU',
    'cost slows both sides alike: the on/off ratio of admissions/s shows that metrics neither block nor',
    'serialise admission, but it cannot resolve a CPU overhead that small; the bound on that is the per-call',
    "costs and the scrape cost below. Cycle-time differences smaller than the rounds' own spread (the off side's",
    'p99 alone moves by a factor of 2 between rounds) are noise, not overhead.',
    '',
    `Load average during the rounds: ${loads.map((l) => l.toFixed(1)).join(', ')} on ${os.cpus().length} cores.`,
    '',
    `The metrics calls alone: one cycle's \`observeCycle\` ${(cycleNs / 1000).toFixed(2)} µs, one grant's \`observeGrant\``,
    `${(grantNs / 1000).toFixed(2)} µs, one ledger transaction's observer ${(txNs / 1000).toFixed(2)} µs — against a cycle p50 of`,
    `${offP50.toFixed(1)} ms, i.e. ${((cycleNs / 1e6 / offP50) * 100).toFixed(3)} % of a cycle for the cycle's own bookkeeping.`,
    `One scrape of \`/metrics\` (the ledger read and serialisation, under load) took p50 ${percentile(scrapes, 50).toFixed(1)} ms,`,
    `p99 ${percentile(scrapes, 99).toFixed(1)} ms (${scrapes.length} scrapes): at Prometheus's default 15 s interval, at most ${((percentile(scrapes, 50) / 15000) * 100).toFixed(2)} % of one core.`,
  ].join('\n');
  writeBenchSection('metrics', 'Metrics overhead (observability issue)', body);
  process.stderr.write(`${body}\n`);
}
