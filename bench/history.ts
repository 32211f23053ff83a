import type { Client } from '@temporalio/client';
import { DEFAULT_SCHEDULER_WORKFLOW_ID } from '../src/admission/constants';
import { pipelineResult, startPipeline } from '../src/client';
import type { PipelineDefinition } from '../src/definition/types';
import { startBenchCluster, type BenchCluster } from './cluster';
import { markdownTable, writeBenchSection } from './report';

const LIMIT_EVENTS = 51_200;

async function historyOf(client: Client, workflowId: string): Promise<{ events: number; bytes: number }> {
  const d = await client.workflow.getHandle(workflowId).describe();
  return { events: d.historyLength, bytes: d.historySize ?? 0 };
}

async function blocked(
  cluster: BenchCluster,
  waitSeconds: number,
  stages: number,
): Promise<{ events: number; bytes: number }> {
  const tag = `${Date.now()}`;
  const blocker = await startPipeline(
    cluster.client,
    {
      name: 'blocker',
      stages: [
        {
          id: 'b',
          handler: 'qm.sleep',
          priority: 5,
          input: { ms: waitSeconds * 1000 },
          // Longer than its sleep: at the default (600 s) a 600 s blocker timed out and ran again.
          timeoutSeconds: waitSeconds + 120,
          resources: { desired: { cpu: 16 } },
        },
      ],
    },
    { taskQueue: cluster.taskQueue, workflowId: `blocker-${tag}` },
  );
  await new Promise((r) => setTimeout(r, 1500));
  const waiter: PipelineDefinition = {
    name: 'waiter',
    stages: Array.from({ length: stages }, (_, i) => ({
      id: `w${i}`,
      handler: 'qm.sleep',
      priority: 5,
      input: { ms: 1 },
      resources: { desired: { cpu: 1 } },
    })),
  };
  const h = await startPipeline(cluster.client, waiter, {
    taskQueue: cluster.taskQueue,
    workflowId: `waiter-${tag}`,
  });
  await pipelineResult(h);
  await pipelineResult(blocker);
  return historyOf(cluster.client, h.workflowId);
}

/**
 * `npm run bench -- history [SECONDS...]`: history events and bytes of a pipeline whose stages wait behind a
 * blocker for each given time (default 10 60 300 s; one stage, then ten stages for the longest), and of the
 * scheduler per minute while requests wait; with the hours until Temporal's 51,200-event limit. Waiting is
 * O(1) in history, so the hours are unbounded for a pipeline; the scheduler continues-as-new when suggested.
 */
export async function run(args: string[]): Promise<void> {
  const waits = args.length > 0 ? args.map(Number) : [10, 60, 300];
  const cluster = await startBenchCluster({
    name: 'history',
    nodes: [{ id: 'big', capacity: { cpu: 16 }, monitor: false }],
  });
  const rows: Array<Array<string | number>> = [];
  try {
    for (const w of waits) {
      const r = await blocked(cluster, w, 1);
      rows.push([`one stage waiting ${w} s`, r.events, r.bytes]);
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
    }
    const longest = Math.max(...waits);
    const ten = await blocked(cluster, longest, 10);
    rows.push([`ten stages waiting ${longest} s`, ten.events, ten.bytes]);
    process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
    // The scheduler while requests wait: its events per minute.
    const before = await historyOf(cluster.client, DEFAULT_SCHEDULER_WORKFLOW_ID);
    const blocker = startPipeline(
      cluster.client,
      {
        name: 'blocker',
        stages: [
          {
            id: 'b',
            handler: 'qm.sleep',
            priority: 5,
            input: { ms: 60_000 },
            timeoutSeconds: 180,
            resources: { desired: { cpu: 16 } },
          },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: `sched-blocker-${Date.now()}` },
    );
    const waiters = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        startPipeline(
          cluster.client,
          {
            name: 'waiter',
            stages: [
              {
                id: 'w',
                handler: 'qm.sleep',
                priority: 5,
                input: { ms: 1 },
                resources: { desired: { cpu: 16 } },
              },
            ],
          },
          { taskQueue: cluster.taskQueue, workflowId: `sched-waiter-${i}-${Date.now()}` },
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 60_000));
    const after = await historyOf(cluster.client, DEFAULT_SCHEDULER_WORKFLOW_ID);
    rows.push([
      'scheduler, one minute with 50 waiting',
      after.events - before.events,
      after.bytes - before.bytes,
    ]);
    await Promise.all(waiters.map((h) => h.terminate('bench done').catch(() => undefined)));
    await (await blocker).terminate('bench done').catch(() => undefined);
  } finally {
    await cluster.close();
  }
  const body = [
    `History of waiting (admission issue), ${new Date().toISOString().slice(0, 10)}, this repo's 2-core machine:`,
    'events and bytes of the whole waiting pipeline (start to completion). Before this change a waiting stage',
    'wrote ~45 events a minute (a 15 s re-check timer, an activity and an upsert each time): one waiting stage',
    'reached the 51,200-event limit in ~19 h, ten in ~2 h. Now a wait is one activity plus at most three',
    'wait-reason signals, whatever its length: the limit is never reached by waiting. Of a waiting one-stage',
    "pipeline's 28 events, 17 are what the same pipeline without resources writes; the wait adds the fast path's",
    'marker, the waiting activity (3) and the workflow task after it (3), and here one wait-reason signal with its',
    'workflow task (4).',
    '',
    markdownTable(
      ['what', 'events', 'bytes', 'hours to the 51,200-event limit'],
      rows.map(([what, events, bytes]) => [
        what as string,
        events as number,
        bytes as number,
        String(what).startsWith('scheduler')
          ? `${(LIMIT_EVENTS / (events as number) / 60).toFixed(1)} (continues as new when suggested)`
          : 'never (O(1) per wait)',
      ]),
    ),
  ].join('\n');
  writeBenchSection('history', 'History of waiting (admission issue)', body);
  process.stderr.write(`${body}\n`);
}
