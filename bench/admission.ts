import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pipelineResult, startPipeline } from '../src/client';
import { startEmbeddedPostgres } from '../src/ledger/embedded';
import { freePort } from '../src/services/free-port';
import { startTemporalDevServer } from '../src/services/temporal-dev-server';
import { createQuartermasterWorker } from '../src/worker/create-worker';
import { markdownTable, percentile, writeBenchSection } from './report';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function millis(e: HistoryEvent | undefined): number {
  const t = e?.eventTime;
  if (!t) return Number.NaN;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** Scheduled events of an activity type, in order, with their input's stage id when it is runStage. */
function scheduled(events: HistoryEvent[], type: string): HistoryEvent[] {
  return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);
}

/**
 * `npm run bench -- admission`: end to end on a real dev server and PostgreSQL, the time from a ready stage
 * asking for resources to it being admitted (requestReservation scheduled → runStage scheduled: one activity
 * plus one workflow task on the uncontended fast path), next to a bare no-op activity's round trip measured the
 * same way in the same pipelines (a resource-less `qm.echo` stage scheduled → the next stage scheduled).
 */
export async function run(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 60);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-bench-admission-'));
  chmodSync(tmp, 0o755);
  const [temporalServer, pg] = await Promise.all([
    startTemporalDevServer(),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port })),
  ]);
  const databaseUrl = process.env.DATABASE_URL ?? (pg?.connectionString as string);
  const nativeConnection = await NativeConnection.connect({ address: temporalServer.address });
  const worker = await createQuartermasterWorker({
    connection: nativeConnection,
    taskQueue: 'bench-admission',
    databaseUrl,
    schema: `bench_admission_${Date.now()}`,
    node: { id: 'bench', capacity: { cpu: 1000 }, monitor: false },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  const admission: number[] = [];
  const noop: number[] = [];
  try {
    const definition = {
      name: 'admission-bench',
      stages: [
        { id: 'admitted', handler: 'qm.echo', priority: 5, resources: { desired: { cpu: 1 } } },
        { id: 'plain', handler: 'qm.echo', priority: 5, dependsOn: ['admitted'] },
        { id: 'after', handler: 'qm.echo', priority: 5, dependsOn: ['plain'] },
      ],
    };
    for (let i = 0; i < n + 5; i++) {
      const handle = await startPipeline(client, definition, {
        taskQueue: 'bench-admission',
        workflowId: `adm-${i}-${Date.now()}`,
      });
      await pipelineResult(handle);
      if (i < 5) continue; // warm-up: bundle caches, pool connections, the scheduler's first start
      const events = (await handle.fetchHistory()).events ?? [];
      const requests = scheduled(events, 'requestReservation');
      const runs = scheduled(events, 'runStage');
      admission.push(millis(runs[0]) - millis(requests[0]));
      noop.push(millis(runs[2]) - millis(runs[1]));
    }
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await nativeConnection.close();
    await connection.close();
    await Promise.all([temporalServer.stop(), pg?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
  const row = (name: string, xs: number[]) => [name, xs.length, percentile(xs, 50), percentile(xs, 99)];
  const ratio50 = percentile(admission, 50) / percentile(noop, 50);
  const ratio99 = percentile(admission, 99) / percentile(noop, 99);
  const body = [
    `Sequential pipelines (uncontended: the fast path grants in the request's own activity). Times from the`,
    `workflow histories, ms (event timestamps have 1 ms resolution).`,
    '',
    markdownTable(
      ['measure', 'n', 'p50 ms', 'p99 ms'],
      [
        row('request → admitted (requestReservation → runStage scheduled)', admission),
        row('bare no-op activity round trip (qm.echo → next stage scheduled)', noop),
      ],
    ),
    '',
    `Admission costs **${ratio50.toFixed(2)}×** a no-op activity round trip at p50 and **${ratio99.toFixed(2)}×** at p99 (target ≤ 2×).`,
    'Under contention a request waits for capacity by design; that wait is scheduling, not overhead, and is not in this table.',
  ].join('\n');
  writeBenchSection('admission', 'Admission end to end (scheduler issue)', body);
  process.stderr.write(`${body}\n`);
}
