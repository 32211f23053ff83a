import type { StageDefinition } from '../../../src/definition/types';
import type { JsonValue } from '../../../src/handlers/types';
import {
  fanOutCount,
  qmConcat,
  qmSum,
  shardRequestSpec,
  shardTasks,
  shardWorkflowId,
  shardsUpFront,
  ShardTracker,
} from '../../../src/sharding';

function stage(over: Partial<StageDefinition>): StageDefinition {
  return { id: 'work', handler: 'qm.sum', priority: 5, ...over };
}

const items = (n: number): JsonValue => ({ numbers: Array.from({ length: n }, (_, i) => i + 1), tag: 'x' });
const byItems = (extra: Record<string, unknown> = {}) =>
  stage({
    resources: { desired: { cpu: 8, memoryMb: 1000 }, minimum: { cpu: 4, memoryMb: 1000 } },
    shard: { by: 'items', field: 'numbers', maxShards: 4, reassemble: 'qm.sum', ...extra },
  });

describe('shardRequestSpec', () => {
  it('is undefined without a shard spec', () => {
    expect(shardRequestSpec(stage({}), {})).toBeUndefined();
  });
  it('carries the item count, cap, minimum slice and floor for by: items', () => {
    const s = byItems({ minItemsPerShard: 2, resources: { desired: { cpu: 1 }, minimum: { cpu: 1 } } });
    expect(shardRequestSpec(s, items(10))).toEqual({
      maxShards: 4,
      itemCount: 10,
      minItemsPerShard: 2,
      perShardFloor: { cpu: 1 },
    });
  });
  it('caps by: count at count', () => {
    const s = stage({ shard: { by: 'count', count: 3, maxShards: 10, reassemble: 'qm.concat' } });
    expect(shardRequestSpec(s, {})).toEqual({ maxShards: 3 });
  });
  it.each([[{}], [{ numbers: 'no' }], [null], [[1, 2]]])('rejects a non-array items field %j', (input) => {
    expect(() => shardRequestSpec(byItems(), input as JsonValue)).toThrow(
      expect.objectContaining({ name: 'InvalidShardArgumentError' }),
    );
  });
});

describe('fanOutCount', () => {
  it.each([
    [undefined, 4], // up front: the largest count allowed
    [2, 2],
    [9, 4], // clamped to maxShards
    [0, 1], // clamped to at least one for a non-empty list
  ])('items: decided %p → %p', (decided, want) => {
    expect(fanOutCount(byItems(), items(10), decided)).toBe(want);
  });
  it('items: bounded by the item count and minItemsPerShard', () => {
    expect(fanOutCount(byItems(), items(3))).toBe(3);
    expect(fanOutCount(byItems({ minItemsPerShard: 4 }), items(10))).toBe(2);
  });
  it('items: an empty list has zero shards', () => {
    expect(fanOutCount(byItems(), items(0), 0)).toBe(0);
    expect(shardTasks(byItems(), items(0), 0)).toEqual([]);
  });
  it('count: always count, whatever was decided', () => {
    const s = stage({ shard: { by: 'count', count: 5, maxShards: 5, reassemble: 'qm.concat' } });
    expect(fanOutCount(s, {}, 2)).toBe(5);
  });
});

describe('shardTasks', () => {
  it('slices input[field] contiguously, keeps other fields, and scales resources by the largest slice', () => {
    const tasks = shardTasks(byItems(), items(10), 3);
    expect(tasks.map((t) => t.items)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ]);
    expect(tasks.map((t) => (t.input as { numbers: number[] }).numbers)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7],
      [8, 9, 10],
    ]);
    expect(tasks.every((t) => (t.input as { tag: string }).tag === 'x')).toBe(true);
    expect(tasks[0]?.resources).toEqual({
      desired: { cpu: 3.2, memoryMb: 400 },
      minimum: { cpu: 1.6, memoryMb: 400 },
    });
    expect(tasks.map((t) => [t.index, t.count])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
  });
  it('uses the spec’s own per-shard resources when given', () => {
    const s = byItems({ resources: { desired: { cpu: 2 }, minimum: { cpu: 1 } } });
    expect(shardTasks(s, items(4), 2)[1]?.resources).toEqual({ desired: { cpu: 2 }, minimum: { cpu: 1 } });
  });
  it('has no resources for a stage without them', () => {
    const s = stage({ shard: { by: 'count', count: 2, maxShards: 2, reassemble: 'qm.concat' } });
    expect(shardTasks(s, { a: 1 }, 2)).toEqual([
      { index: 0, count: 2, input: { a: 1 } },
      { index: 1, count: 2, input: { a: 1 } },
    ]);
  });
  it('sharded sums and concatenations equal the unsharded ones for every count', () => {
    for (let n = 1; n <= 12; n++) {
      const input = items(n);
      const all = (input as { numbers: number[] }).numbers;
      for (let k = 1; k <= n; k++) {
        const tasks = shardTasks(byItems({ maxShards: 12 }), input, k);
        const slices = tasks.map((t) => ({
          index: t.index,
          value: (t.input as { numbers: number[] }).numbers,
        }));
        expect(qmConcat([...slices].reverse())).toEqual(all);
        const sums = slices.map((s) => ({ index: s.index, value: s.value.reduce((a, b) => a + b, 0) }));
        expect(qmSum(sums)).toBe((n * (n + 1)) / 2);
      }
    }
  });
});

describe('shardsUpFront / shardWorkflowId', () => {
  it('shards up front only with always', () => {
    expect(shardsUpFront(byItems())).toBe(false);
    expect(shardsUpFront(byItems({ always: true }))).toBe(true);
  });
  it('derives child ids from the parent, stage and index', () => {
    expect(shardWorkflowId('pipe-1', 'work', 3)).toBe('pipe-1/work/shard-3');
  });
});

describe('ShardTracker', () => {
  const tasks = () => shardTasks(byItems(), items(10), 4);

  it('hands shards out in index order and tracks their state and node', () => {
    const t = new ShardTracker(tasks());
    expect(t.snapshot().map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(t.takeNext()?.index).toBe(0);
    expect(t.takeNext()?.index).toBe(1);
    t.running(0, 1, 'n1');
    expect(t.snapshot().slice(0, 3)).toEqual([
      { index: 0, status: 'running', attempts: 1, node: 'n1', items: { start: 0, end: 3 } },
      { index: 1, status: 'waiting', attempts: 0, items: { start: 3, end: 6 } },
      { index: 2, status: 'pending', attempts: 0, items: { start: 6, end: 8 } },
    ]);
  });

  it('keeps one result per index: duplicates and late reports change nothing', () => {
    const t = new ShardTracker(tasks());
    t.completed(2, 30, 1, 'n1');
    t.completed(0, 10, 2, 'n1');
    t.completed(2, 999, 3, 'n2'); // a duplicate report
    t.running(2, 4, 'n3'); // a late progress signal
    t.failed(0, 'late failure'); // cannot undo a completion
    expect(t.results()).toEqual([
      { index: 0, value: 10 },
      { index: 2, value: 30 },
    ]);
    expect(t.snapshot()[2]).toMatchObject({ status: 'completed', attempts: 1, node: 'n1' });
    expect(t.allCompleted()).toBe(false);
  });

  it('reports coverage of shards and items, merging adjacent gaps', () => {
    const t = new ShardTracker(tasks()); // slices 0-3, 3-6, 6-8, 8-10
    t.completed(0, 1, 1);
    t.failed(1, 'boom');
    t.failed(2, 'deadline', true);
    t.cancelUnstarted('deadline');
    expect(t.coverage()).toEqual({
      shards: 4,
      completed: [0],
      failed: [1],
      missing: [2, 3],
      items: { total: 10, covered: 3, uncovered: [{ start: 3, end: 10 }] },
    });
    expect(t.failedIndexes()).toEqual([1]);
    expect(t.incompleteIndexes()).toEqual([1, 2, 3]);
    expect(t.takeNext()).toBeUndefined();
  });

  it('has no item coverage for by: count', () => {
    const s = stage({ shard: { by: 'count', count: 2, maxShards: 2, reassemble: 'qm.concat' } });
    const t = new ShardTracker(shardTasks(s, {}, 2));
    t.completed(0, [0], 1);
    t.completed(1, [1], 1);
    expect(t.allCompleted()).toBe(true);
    expect(t.coverage()).toEqual({ shards: 2, completed: [0, 1], failed: [], missing: [] });
  });
});
