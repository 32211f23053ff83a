import type { PipelineDefinition } from '../../../src/definition/types';
import { PipelineRun } from '../../../src/pipeline/run-state';
import type { ShardCoverage } from '../../../src/sharding';

const def: PipelineDefinition = {
  name: 'p',
  stages: [
    { id: 'a', handler: 'h', priority: 2 },
    { id: 'b', handler: 'h', priority: 9, dependsOn: ['a'] },
  ],
};
const t0 = new Date('2026-01-01T00:00:00Z');
const full: ShardCoverage = { shards: 2, completed: [0, 1], failed: [], missing: [] };
const half: ShardCoverage = { shards: 2, completed: [0], failed: [1], missing: [] };

test('a fully reassembled sharded stage is completed', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  run.shards('a', [
    { index: 0, status: 'completed', attempts: 1, node: 'n1' },
    { index: 1, status: 'completed', attempts: 1, node: 'n2' },
  ]);
  run.reassembled('a', t0, 3, full, 1);
  expect(run.state('a')).toMatchObject({ status: 'completed', output: 3, coverage: full });
  expect(run.state('a').shards?.map((s) => s.node)).toEqual(['n1', 'n2']);
  expect(run.markdown()).toContain('2/2 shards done');
});

test('a partial stage lets its dependents run and makes the pipeline partial', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  run.reassembled('a', t0, 1, half, 1);
  expect(run.state('a').status).toBe('partial');
  expect(run.ready().map((s) => s.id)).toEqual(['b']);
  expect(run.overall()).toBe('running');
  run.started('b', t0);
  run.completed('b', t0, 2, 1);
  expect(run.overall()).toBe('partial');
  expect(run.result()).toMatchObject({ status: 'partial', stages: { a: { coverage: half } } });
});

test('a failed sharded stage keeps its coverage', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  run.failedStage('a', t0, 'shard 1 failed', 2, half);
  expect(run.state('a')).toMatchObject({ status: 'failed', error: 'shard 1 failed', coverage: half });
  run.skipRemaining();
  expect(run.overall()).toBe('failed');
});
