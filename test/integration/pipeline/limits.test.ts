/**
 * The largest values the limits allow complete on the dev server (so each limit is one we measured, not a
 * guess): a pipeline of MAX_STAGES stages, and a stage of MAX_SHARDS shards.
 */
import { pipelineResult, startPipeline } from '../../../src/client';
import { MAX_SHARDS, MAX_STAGES } from '../../../src/definition/limits';
import { uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

let t: TestTemporal;
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(() => t.close());

test(`a pipeline of ${MAX_STAGES} stages completes`, async () => {
  const stages = Array.from({ length: MAX_STAGES }, (_, i) => ({
    id: `s${i}`,
    handler: 'qm.sum',
    priority: 5,
    input: { numbers: [i] },
    // A chain of 10 layers, so the DAG and concurrency both get exercised.
    ...(i >= 100 ? { dependsOn: [`s${i - 100}`] } : {}),
  }));
  const started = Date.now();
  const result = await pipelineResult(
    await startPipeline(
      t.client,
      { name: 'max-stages', stages },
      { taskQueue: t.taskQueue, workflowId: uniqueId('max-stages') },
    ),
  );
  expect(result.status).toBe('completed');
  expect(result.stages[`s${MAX_STAGES - 1}`]?.output).toBe(MAX_STAGES - 1);
  process.stderr.write(`[limits] ${MAX_STAGES} stages in ${Date.now() - started} ms\n`);
}, 300_000);

test(`a stage of ${MAX_SHARDS} shards completes`, async () => {
  const started = Date.now();
  const result = await pipelineResult(
    await startPipeline(
      t.client,
      {
        name: 'max-shards',
        stages: [
          {
            id: 'fan',
            handler: 'qm.sum',
            priority: 5,
            input: { numbers: [1] },
            shard: { by: 'count', count: MAX_SHARDS, always: true, reassemble: 'qm.sum' },
          },
        ],
      },
      { taskQueue: t.taskQueue, workflowId: uniqueId('max-shards') },
    ),
  );
  expect(result.status).toBe('completed');
  expect(result.stages.fan?.shards).toHaveLength(MAX_SHARDS);
  expect(result.stages.fan?.output).toBe(MAX_SHARDS);
  process.stderr.write(`[limits] ${MAX_SHARDS} shards in ${Date.now() - started} ms\n`);
}, 300_000);
