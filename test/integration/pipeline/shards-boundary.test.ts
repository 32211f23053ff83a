import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { pipelineResult, startPipeline } from '../../../src/client';
import { defineStage } from '../../../src/handlers/registry';
import type { PipelineResult } from '../../../src/pipeline/types';
import { shardWorkflowId } from '../../../src/sharding/fan-out';
import { uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

let t: TestTemporal;

beforeAll(async () => {
  t = await startTestWorker({
    handlers: [
      defineStage('test.big', ({ shard }) => ({ shard: shard?.index ?? null, blob: 'x'.repeat(70_000) })),
    ],
  });
});
afterAll(() => t.close());

const start = (definition: unknown, workflowId = uniqueId('shards')) =>
  startPipeline(t.client, definition, { taskQueue: t.taskQueue, workflowId });

test('shard children carry QmPipeline, QmStage, QmShard and their own QmState', async () => {
  const workflowId = uniqueId('tagged');
  const result = await pipelineResult(
    await start(
      {
        name: 'tagged',
        stages: [
          {
            id: 'fan',
            handler: 'qm.sum',
            priority: 5,
            input: { numbers: [1, 2, 3, 4] },
            shard: { by: 'items', field: 'numbers', always: true, maxShards: 2, reassemble: 'qm.sum' },
          },
        ],
      },
      workflowId,
    ),
  );
  expect(result.stages.fan?.output).toBe(10);
  const child = await t.client.workflow.getHandle(shardWorkflowId(workflowId, 'fan', 1)).describe();
  expect(child.searchAttributes).toMatchObject({
    QmPipeline: ['tagged'],
    QmStage: ['fan'],
    QmShard: [1],
    QmState: ['completed'],
  });
});

test('a shard result over 64 KiB fails that shard, saying to return a reference', async () => {
  const err = await pipelineResult(
    await start({
      name: 'too-big',
      stages: [
        {
          id: 'fan',
          handler: 'test.big',
          priority: 5,
          shard: { by: 'count', count: 2, always: true, reassemble: 'qm.concat' },
        },
      ],
    }),
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const result = ((err as WorkflowFailedError).cause as ApplicationFailure).details?.[0] as PipelineResult;
  expect(result.stages.fan?.status).toBe('failed');
  expect(result.stages.fan?.error).toContain('65536-byte limit on a shard result');
  expect(result.stages.fan?.error).toContain('return a reference');
});
