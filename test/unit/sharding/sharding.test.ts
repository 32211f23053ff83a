import {
  countShards,
  firstFitOn,
  perShardRequest,
  planShards,
  qmConcat,
  qmMerge,
  qmSum,
  shardCountRange,
  shardResources,
  shardShare,
  sliceBounds,
  sliceItems,
  BUILTIN_REDUCERS,
  isBuiltinReducer,
} from '../../../src/sharding';

describe('sliceItems / sliceBounds', () => {
  it.each([
    [10, 3, [4, 3, 3]],
    [9, 3, [3, 3, 3]],
    [7, 4, [2, 2, 2, 1]],
    [5, 5, [1, 1, 1, 1, 1]],
    [1, 1, [1]],
  ])('%i items in %i shards → sizes %j, contiguous and complete', (n, k, sizes) => {
    const items = Array.from({ length: n }, (_, i) => i);
    const slices = sliceItems(items, k);
    expect(slices.map((s) => s.length)).toEqual(sizes);
    expect(slices.flat()).toEqual(items);
    expect(sliceBounds(n, k).map((b) => b.index)).toEqual(sizes.map((_, i) => i));
  });

  it('an empty array is zero shards', () => {
    expect(sliceItems([], 3)).toEqual([]);
    expect(sliceBounds(0, 1)).toEqual([]);
  });

  it.each([
    [() => sliceItems([1, 2], 3), 'shardCount'],
    [() => sliceItems([1, 2], 0), 'shardCount'],
    [() => sliceBounds(-1, 1), 'itemCount'],
    [() => countShards(0), 'count'],
    [() => shardShare(2, 2), 'index'],
    [() => shardResources({ cpu: 1 }, 1.5), 'share'],
  ])('%#: rejects bad %s by name', (fn, field) => {
    expect(fn).toThrow(expect.objectContaining({ name: 'InvalidShardArgumentError', field }));
  });

  it('count shards carry index and count', () => {
    expect(countShards(3)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
  });

  it('shares and per-shard resources', () => {
    expect(shardShare(3, 0, 10)).toBeCloseTo(0.4);
    expect(shardShare(3, 2, 10)).toBeCloseTo(0.3);
    expect(shardShare(4, 1)).toBe(0.25);
    expect(shardResources({ cpu: 8, memoryMb: 1000 }, 0.25, { cpu: 3, gpu: 1 })).toEqual({
      cpu: 3,
      memoryMb: 250,
      gpu: 1,
    });
  });
});

describe('planShards', () => {
  const nodes = (...cpus: number[]) => ({ nodes: cpus.map((cpu, i) => ({ id: `n${i}`, free: { cpu } })) });

  it.each([
    ['fits at k=1', { desired: { cpu: 4 }, maxShards: 4 }, nodes(4), 1, 1],
    ['exact fit boundary', { desired: { cpu: 6 }, maxShards: 8 }, nodes(2, 2, 2), 3, 3],
    ['maxShards cap, waves', { desired: { cpu: 8 }, maxShards: 2 }, nodes(4), 2, 1],
    ['items not divisible', { desired: { cpu: 6 }, maxShards: 8, itemCount: 7 }, nodes(2, 2, 2, 2), 4, 4],
    ['empty array', { desired: { cpu: 6 }, maxShards: 8, itemCount: 0 }, nodes(1), 0, 0],
    [
      'pool bounds concurrency',
      { desired: { cpu: 4, lic: 4 }, maxShards: 4 },
      { ...nodes(8), pools: { lic: 2 } },
      2,
      1,
    ],
  ])('%s', (_name, request, view, k, concurrent) => {
    expect(planShards(request, firstFitOn(view))).toMatchObject({ shardCount: k, concurrent });
  });

  it.each([
    ['nothing fits even at the cap', { desired: { cpu: 16 }, maxShards: 2 }, nodes(4)],
    [
      'minItemsPerShard caps k',
      { desired: { cpu: 12 }, maxShards: 8, itemCount: 10, minItemsPerShard: 5 },
      nodes(4, 4, 4),
    ],
  ])('%s → null', (_name, request, view) => {
    expect(planShards(request, firstFitOn(view))).toBeNull();
  });

  it('without waves only an all-at-once plan counts', () => {
    expect(
      planShards({ desired: { cpu: 8 }, maxShards: 4 }, firstFitOn(nodes(4)), { allowWaves: false }),
    ).toBeNull();
  });

  it('count range and per-shard request', () => {
    expect(shardCountRange({ desired: {}, maxShards: 8, itemCount: 3 })).toEqual({ min: 1, max: 3 });
    expect(shardCountRange({ desired: {}, maxShards: 8, itemCount: 3, minItemsPerShard: 5 })).toEqual({
      min: 1,
      max: 1,
    });
    expect(perShardRequest({ desired: { cpu: 10 }, maxShards: 8, itemCount: 10 }, 3)).toEqual({ cpu: 4 });
    expect(() => shardCountRange({ desired: {}, maxShards: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidShardArgumentError', field: 'maxShards' }),
    );
  });
});

describe('reducers', () => {
  it('concat keeps shard order whatever the gather order', () => {
    expect(
      qmConcat([
        { index: 1, value: [3] },
        { index: 0, value: [1, 2] },
        { index: 2, value: [] },
      ]),
    ).toEqual([1, 2, 3]);
  });
  it('sum', () => {
    expect(
      qmSum([
        { index: 0, value: 1.5 },
        { index: 1, value: 2 },
      ]),
    ).toBe(3.5);
  });
  it('identities over zero shards', () => {
    expect([qmConcat([]), qmSum([]), qmMerge([])]).toEqual([[], 0, {}]);
  });
  it('merge, and conflicts name the key and both shards', () => {
    expect(
      qmMerge([
        { index: 0, value: { a: 1 } },
        { index: 1, value: { b: 2 } },
      ]),
    ).toEqual({ a: 1, b: 2 });
    expect(() =>
      qmMerge([
        { index: 2, value: { k: 1 } },
        { index: 0, value: { k: 1 } },
      ]),
    ).toThrow(
      expect.objectContaining({ name: 'ShardMergeConflictError', key: 'k', firstShard: 0, secondShard: 2 }),
    );
  });
  it.each([
    [() => qmConcat([{ index: 0, value: 'x' }]), 'qm.concat'],
    [() => qmSum([{ index: 3, value: '1' }]), 'qm.sum'],
    [() => qmMerge([{ index: 0, value: [1] }]), 'qm.merge'],
    [
      () =>
        qmSum([
          { index: 0, value: 1 },
          { index: 0, value: 2 },
        ]),
      'qm.sum',
    ],
  ])('%#: bad input is a ReducerInputError from %s', (fn, reducer) => {
    expect(fn).toThrow(expect.objectContaining({ name: 'ReducerInputError', reducer }));
  });
  it('built-ins by name', () => {
    expect(isBuiltinReducer('qm.sum')).toBe(true);
    expect(isBuiltinReducer('toString')).toBe(false);
    expect(BUILTIN_REDUCERS['qm.concat']).toBe(qmConcat);
  });

  it('property: sharded sum and concat equal the unsharded result', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const items = Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 1000));
      const k = items.length === 0 ? 1 : 1 + Math.floor(rand() * items.length);
      const slices = sliceItems(items, k);
      const outs = slices.map((s, index) => ({ index, value: s }));
      expect(qmConcat([...outs].reverse())).toEqual(items);
      expect(qmSum(slices.map((s, index) => ({ index, value: s.reduce((a, b) => a + b, 0) })))).toBe(
        items.reduce((a, b) => a + b, 0),
      );
    }
  });
});
