import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { snapshot } from '../../../src/ledger/snapshot';
import { spawnNodeWorker, type ChildWorker } from '../../support/child-worker';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// The shared queue (pipelines, shards, scheduler, the reducer) runs in-process; the node that runs the
// shards is a real `qm worker` child process we SIGKILL mid-shard.
let db: Database;
let shared: TestTemporal;
let doomed: ChildWorker | undefined;
let backup: TestTemporal | undefined;

beforeAll(async () => {
  db = await openTestDatabase('qm_shard_kill');
  shared = await startTestWorker({
    schema: db.schema,
    staleAfterMs: 8000,
    leaseMs: 10_000,
    // A reducer that shows exactly which shard results it got.
    handlers: [
      defineStage('test.collect', ({ input }) => {
        const { results } = input as { results: Array<{ index: number; value: { sleptMs: number } }> };
        return results.map((r) => [r.index, r.value.sleptMs]);
      }),
    ],
  });
});
afterAll(async () => {
  await doomed?.kill();
  await backup?.close();
  await shared.close();
  await dropSchema(db);
});

test('a worker killed during a shard: the shard re-runs elsewhere and each result is reduced exactly once', async () => {
  doomed = await spawnNodeWorker(shared, db.schema, 'doomed', 'cpu=4');
  const id = uniqueId('shard-kill');
  const handle = await startPipeline(
    shared.client,
    {
      name: 'shard-kill',
      stages: [
        {
          id: 'work',
          handler: 'qm.sleep',
          priority: 6,
          input: { ms: 3000 },
          retry: { maximumAttempts: 3, initialIntervalSeconds: 1 },
          // cpu=8 never fits a cpu=4 node: two shards of cpu=4, one at a time.
          resources: { desired: { cpu: 8 } },
          shard: { by: 'count', count: 2, maxShards: 2, reassemble: 'test.collect' },
        },
      ],
    },
    { taskQueue: shared.taskQueue, workflowId: id },
  );
  let status = await pipelineStatus(handle);
  for (let i = 0; i < 150 && !status.stages.work?.shards?.some((s) => s.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await pipelineStatus(handle);
  }
  expect(status.stages.work?.shards?.find((s) => s.status === 'running')).toMatchObject({ node: 'doomed' });

  await doomed.kill();
  backup = await startTestWorker({
    schema: db.schema,
    taskQueue: shared.taskQueue,
    node: { id: 'backup', capacity: { cpu: 4 }, monitor: false },
  });
  const result = await pipelineResult(handle);
  const work = result.stages.work;
  expect(work?.status).toBe('completed');
  expect(work?.output).toEqual([
    [0, 3000],
    [1, 3000],
  ]);
  expect(work?.shards?.map((s) => s.status)).toEqual(['completed', 'completed']);
  expect(work?.shards?.some((s) => s.attempts >= 2 && s.node === 'backup')).toBe(true);
  const snap = await snapshot(db, new Date(), { staleAfterMs: 8000 });
  expect(snap.pending).toHaveLength(0);
  expect(snap.active).toHaveLength(0);
}, 120_000);
