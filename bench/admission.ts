import type { WorkflowHandle } from '@temporalio/client';
import { pipelineResult, startPipeline } from '../src/client';
import { startBenchCluster } from './cluster';
import { markdownTable, percentile, writeBenchSection } from './report';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function millis(e: HistoryEvent | undefined): number {
  const t = e?.eventTime;
  if (!t) return Number.NaN;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** The completion event of the activity `scheduledEvent` scheduled. */
function completed(
  events: HistoryEvent[],
  scheduledEvent: HistoryEvent | undefined,
): HistoryEvent | undefined {
  const id = String(scheduledEvent?.eventId);
  return events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
}

/** Scheduled events of an activity type, in order, with their input's stage id when it is runStage. */
function scheduled(events: HistoryEvent[], type: string): HistoryEvent[] {
  return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);
}

/**
 * `npm run bench -- admission`: end to end on a real dev server and PostgreSQL, the time from a stage becoming
 * ready (its dependency's `runStage` completed) to its own `runStage` scheduled, for a stage with resources
 * (uncontended: admitted by the fast path, a local activity inside that workflow task) next to one without, in
 * the same pipelines.
 */
export async function run(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 60);
  const cluster = await startBenchCluster({
    name: 'admission',
    nodes: [{ id: 'bench', capacity: { cpu: 1000 }, monitor: false }],
  });
  const { client } = cluster;
  const admission: number[] = [];
  const noop: number[] = [];
  try {
    const definition = {
      name: 'admission-bench',
      stages: [
        { id: 'before', handler: 'qm.echo', priority: 5 },
        {
          id: 'admitted',
          handler: 'qm.echo',
          priority: 5,
          dependsOn: ['before'],
          resources: { desired: { cpu: 1 } },
        },
        { id: 'plain', handler: 'qm.echo', priority: 5, dependsOn: ['admitted'] },
      ],
    };
    for (let i = 0; i < n + 5; i++) {
      const handle = await startPipeline(client, definition, {
        taskQueue: cluster.taskQueue,
        workflowId: `adm-${i}-${Date.now()}`,
      });
      await pipelineResult(handle);
      if (i < 5) continue; // warm-up: bundle caches, pool connections, the scheduler's first start
      const events = (await handle.fetchHistory()).events ?? [];
      const runs = scheduled(events, 'runStage');
      // From the previous stage's completion to this stage's runStage scheduled: the workflow task that
      // reaches the stage, with (admitted) and without (plain) admission in it.
      admission.push(millis(runs[1]) - millis(completed(events, runs[0])));
      noop.push(millis(runs[2]) - millis(completed(events, runs[1])));
    }
  } finally {
    await cluster.close();
  }
  const row = (name: string, xs: number[]) => [name, xs.length, percentile(xs, 50), percentile(xs, 99)];
  const ratio50 = percentile(admission, 50) / percentile(noop, 50);
  const ratio99 = percentile(admission, 99) / percentile(noop, 99);
  const body = [
    `Sequential pipelines (uncontended: the fast path grants in a local activity inside the workflow task that`,
    `reaches the stage). Times from the workflow histories, ms (event timestamps have 1 ms resolution).`,
    '',
    markdownTable(
      ['measure', 'n', 'p50 ms', 'p99 ms'],
      [
        row('stage with resources: previous stage done → its runStage scheduled', admission),
        row('stage without resources: previous stage done → its runStage scheduled', noop),
      ],
    ),
    '',
    `Reaching a stage with admission takes **${ratio50.toFixed(2)}×** what reaching one without takes at p50 and **${ratio99.toFixed(2)}×** at p99 (target ≤ 2× a no-op round trip).`,
    'Under contention a request waits for capacity by design; that wait is scheduling, not overhead, and is not in this table.',
  ].join('\n');
  writeBenchSection('admission', 'Admission end to end (scheduler issue)', body);
  process.stderr.write(`${body}\n`);
}
