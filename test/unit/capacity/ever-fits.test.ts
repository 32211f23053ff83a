import {
  type CapacityCeiling,
  type EverFitsRequest,
  UnsatisfiableRequestError,
  unsatisfiableResource,
} from '../../../src/capacity/ever-fits';

const ceiling: CapacityCeiling = {
  nodeCount: 2,
  largestNode: { cpu: 16, memoryMb: 65536 },
  pools: { 'db-connections': 10 },
};

const req = (over: Partial<EverFitsRequest>): EverFitsRequest => ({
  minimum: { cpu: 1 },
  desired: { cpu: 1 },
  ...over,
});

test.each<[string, EverFitsRequest, string | undefined]>([
  ['fits the largest node', req({ minimum: { cpu: 16 }, desired: { cpu: 32 } }), undefined],
  ['cpu 1e308 (waited for ever before)', req({ minimum: { cpu: 1e308 }, desired: { cpu: 1e308 } }), 'cpu'],
  ['minimum above every node', req({ minimum: { cpu: 17 }, desired: { cpu: 17 } }), 'cpu'],
  ['a gpu nobody has', req({ minimum: { gpu: 1 }, desired: { gpu: 1 } }), 'gpu'],
  [
    'a pool over its capacity',
    req({ minimum: { 'db-connections': 11 }, desired: { 'db-connections': 11 } }),
    'db-connections',
  ],
  ['an undeclared pool', req({ minimum: { 'license:x': 1 }, desired: { 'license:x': 1 } }), 'license:x'],
  ['zero of something nobody has', req({ minimum: { gpu: 0 }, desired: { gpu: 0 } }), undefined],
  [
    'shardable: its smallest slice fits',
    req({ minimum: { cpu: 64 }, desired: { cpu: 64 }, shard: { maxShards: 8 } }),
    undefined,
  ],
  [
    'shardable: even its smallest slice is too big',
    req({ minimum: { cpu: 640 }, desired: { cpu: 640 }, shard: { maxShards: 8 } }),
    'cpu',
  ],
  [
    'shardable: the per-shard floor is too big',
    req({ minimum: { cpu: 64 }, desired: { cpu: 64 }, shard: { maxShards: 8, perShardFloor: { cpu: 20 } } }),
    'cpu',
  ],
  [
    'may wait for larger nodes',
    req({ minimum: { cpu: 17 }, desired: { cpu: 17 }, waitForLargerNodes: true }),
    undefined,
  ],
])('%s', (_what, request, resource) => {
  expect(unsatisfiableResource(request, ceiling)?.resource).toBe(resource);
});

test('with no node registered yet, nothing is judged unsatisfiable', () => {
  expect(
    unsatisfiableResource(req({ minimum: { cpu: 1e9 } }), { nodeCount: 0, largestNode: {}, pools: {} }),
  ).toBeUndefined();
});

test('the error names the stage, the resource and the largest capacity', () => {
  const problem = unsatisfiableResource(req({ minimum: { cpu: 17 }, desired: { cpu: 17 } }), ceiling);
  const err = new UnsatisfiableRequestError('train', problem!);
  expect(err.name).toBe('UnsatisfiableRequestError');
  expect(err.message).toContain('stage "train" needs at least cpu=17, but the largest node has cpu=16');
  expect(err.message).toContain('waitForLargerNodes');
  expect(err).toMatchObject({ resource: 'cpu', requested: 17, largest: 16 });
});
