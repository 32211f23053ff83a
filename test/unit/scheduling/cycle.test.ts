import {
  compileSchedulerConfig,
  runCycle,
  type Decision,
  type GrantDecision,
  type ShardDecision,
  type WaitDecision,
} from '../../../src/scheduling';
import { NOW, ago, deepFreeze, node, pool, req, snap } from './fixtures';

function byKey(decisions: Decision[], key: string): Decision {
  const d = decisions.find((x) => x.key === key);
  if (d === undefined) throw new Error(`no decision for ${key}`);
  return d;
}
const grant = (ds: Decision[], k: string): GrantDecision => byKey(ds, k) as GrantDecision;
const wait = (ds: Decision[], k: string): WaitDecision => byKey(ds, k) as WaitDecision;
const shard = (ds: Decision[], k: string): ShardDecision => byKey(ds, k) as ShardDecision;
const noMargin = compileSchedulerConfig({ forecastSafetyMargin: 0 });

describe('placement', () => {
  it.each([
    [
      'tightest node wins',
      [node('big', { cpu: 16 }), node('small', { cpu: 4 }), node('mid', { cpu: 8 })],
      { cpu: 4 },
      'small',
    ],
    [
      'normalised across resources',
      [node('a', { cpu: 8, memoryMb: 4096 }), node('b', { cpu: 4, memoryMb: 16384 })],
      { cpu: 2, memoryMb: 2048 },
      'a', // a leaves 6/8 + 2048/4096 = 1.25, b leaves 2/4 + 14336/16384 = 1.375
    ],
    ['ties go to the lower id', [node('n2', { cpu: 4 }), node('n1', { cpu: 4 })], { cpu: 2 }, 'n1'],
    [
      'granted counts',
      [node('a', { cpu: 8 }, { granted: { cpu: 7 } }), node('b', { cpu: 8 }, { granted: { cpu: 4 } })],
      { cpu: 2 },
      'b',
    ],
  ])('best fit: %s', (_name, nodes, desired, expected) => {
    const out = runCycle(snap(nodes, [req('r', desired)]), NOW);
    expect(grant(out.decisions, 'r')).toMatchObject({
      kind: 'grant',
      nodeId: expected,
      taskQueue: `qm-${expected}`,
      granted: desired,
      reduced: false,
    });
  });

  it('stale nodes get nothing', () => {
    const out = runCycle(
      snap(
        [node('s', { cpu: 64 }, { stale: true }), node('n', { cpu: 2 })],
        [req('a', { cpu: 2 }), req('b', { cpu: 2 })],
      ),
      NOW,
    );
    expect(out.decisions.filter((d) => d.kind === 'grant').map((d) => (d as GrantDecision).nodeId)).toEqual([
      'n',
    ]);
    const only = runCycle(snap([node('s', { cpu: 64 }, { stale: true })], [req('a', { cpu: 1 })]), NOW);
    expect(wait(only.decisions, 'a').reason).toMatchObject({ code: 'no-nodes', resource: null });
  });

  it('fit uses the forecast upper band (external load) as well as grants', () => {
    const busy = node(
      'busy',
      { cpu: 8 },
      { granted: { cpu: 1 }, forecastUsage: { cpu: { value: 5, upper: 6 } } },
    );
    const idle = node(
      'idle',
      { cpu: 8 },
      { granted: { cpu: 5 }, forecastUsage: { cpu: { value: 0.5, upper: 1 } } },
    );
    // By grants alone busy has 7 free and idle 3; by forecast busy has only 2. A 3-cpu request goes to idle.
    const out = runCycle(snap([busy, idle], [req('r', { cpu: 3 })]), NOW, noMargin);
    expect(grant(out.decisions, 'r').nodeId).toBe('idle');
    const second = runCycle(snap([busy], [req('r', { cpu: 3 })]), NOW, noMargin);
    expect(wait(second.decisions, 'r').reason).toMatchObject({
      resource: 'cpu',
      needed: 3,
      bestFree: 2,
      nodeId: 'busy',
    });
  });

  it('the safety margin widens the band: upper + margin · (upper − value)', () => {
    const n = node('n', { cpu: 8 }, { forecastUsage: { cpu: { value: 4, upper: 6 } } });
    const r = req('r', { cpu: 2 });
    expect(runCycle(snap([n], [r]), NOW, noMargin).decisions[0]?.kind).toBe('grant'); // 8 − 6 = 2
    const margin = compileSchedulerConfig({ forecastSafetyMargin: 0.5 }); // 8 − (6 + 1) = 1
    expect(wait(runCycle(snap([n], [r]), NOW, margin).decisions, 'r').reason).toMatchObject({ bestFree: 1 });
  });

  it('resources a node does not declare count as zero', () => {
    const out = runCycle(
      snap([node('cpu-only', { cpu: 8 }), node('gpu', { cpu: 2, gpu: 1 })], [req('g', { cpu: 1, gpu: 1 })]),
      NOW,
    );
    expect(grant(out.decisions, 'g').nodeId).toBe('gpu');
  });
});

describe('reduced grants (soft reservation)', () => {
  it.each([
    [
      'half way',
      { cpu: 3 },
      { cpu: 4, memoryMb: 4096 },
      { cpu: 2, memoryMb: 2048 },
      { cpu: 3, memoryMb: 3072 },
    ],
    ['exactly minimum', { cpu: 2 }, { cpu: 4 }, { cpu: 2 }, { cpu: 2 }],
    [
      'scaled by the tightest resource',
      { cpu: 8, memoryMb: 2560 },
      { cpu: 8, memoryMb: 4096 },
      { cpu: 4, memoryMb: 2048 },
      { cpu: 5, memoryMb: 2560 },
    ],
  ])('%s', (_name, free: { cpu: number; memoryMb?: number }, desired, minimum, expected) => {
    const n = node('n', { cpu: free.cpu, memoryMb: free.memoryMb ?? 65536 });
    const out = runCycle(snap([n], [req('r', desired, { minimum })]), NOW);
    const g = grant(out.decisions, 'r');
    expect(g.reduced).toBe(true);
    for (const [k, v] of Object.entries(expected)) expect(g.granted[k]).toBeCloseTo(v, 9);
    for (const k of Object.keys(desired)) {
      expect(g.granted[k]).toBeGreaterThanOrEqual(minimum[k as keyof typeof minimum] ?? 0);
      expect(g.granted[k]).toBeLessThanOrEqual(desired[k as keyof typeof desired] as number);
    }
    expect(out.queue[0]?.reason).toMatch(/^reduced to .* on n/);
  });

  it('prefers the node allowing the largest allocation', () => {
    const out = runCycle(
      snap(
        [node('a', { cpu: 3 }), node('b', { cpu: 5 }), node('c', { cpu: 2 })],
        [req('r', { cpu: 8 }, { minimum: { cpu: 2 } })],
      ),
      NOW,
    );
    expect(grant(out.decisions, 'r')).toMatchObject({ nodeId: 'b', granted: { cpu: 5 }, reduced: true });
  });

  it('a full fit is preferred to a reduced one anywhere', () => {
    const out = runCycle(snap([node('n', { cpu: 4 })], [req('r', { cpu: 4 }, { minimum: { cpu: 1 } })]), NOW);
    expect(grant(out.decisions, 'r')).toMatchObject({ granted: { cpu: 4 }, reduced: false });
  });
});

describe('custom pools', () => {
  it('are cluster-wide and checked for every placement', () => {
    const s = snap(
      [node('n1', { cpu: 8 }), node('n2', { cpu: 8 })],
      [
        req('a', { cpu: 1, 'db-connections': 4 }, { priority: 9 }),
        req('b', { cpu: 1, 'db-connections': 4 }, { priority: 8 }),
        req('c', { cpu: 1, 'db-connections': 4 }, { priority: 7 }),
      ],
      { pools: [pool('db-connections', 10, 1)] },
    );
    const out = runCycle(s, NOW, compileSchedulerConfig({ maxHolds: 0 }));
    expect(out.decisions.map((d) => d.kind)).toEqual(['grant', 'grant', 'wait']);
    expect(wait(out.decisions, 'c').reason).toMatchObject({
      code: 'pool',
      resource: 'db-connections',
      needed: 4,
      bestFree: 1,
      message: 'db-connections: needs 4, pool has 1 free',
    });
  });

  it('an undeclared pool has capacity zero', () => {
    const out = runCycle(snap([node('n', { cpu: 8 })], [req('r', { cpu: 1, 'license:matlab': 1 })]), NOW);
    expect(wait(out.decisions, 'r').reason).toMatchObject({ code: 'pool', exceedsCapacity: true });
  });

  it('a reduced grant is bounded by the pool too', () => {
    const out = runCycle(
      snap([node('n', { cpu: 8 })], [req('r', { cpu: 4, lic: 4 }, { minimum: { cpu: 2, lic: 2 } })], {
        pools: [pool('lic', 3)],
      }),
      NOW,
    );
    expect(grant(out.decisions, 'r').granted).toEqual({ cpu: 3, lic: 3 });
  });
});

describe('wait reasons', () => {
  it.each([
    [
      'cpu short',
      [node('n1', { cpu: 4 }, { granted: { cpu: 1.5 } })],
      { cpu: 4 },
      { code: 'capacity', resource: 'cpu', needed: 4, bestFree: 2.5, nodeId: 'n1', exceedsCapacity: false },
      'cpu: needs 4, best node n1 has 2.5 free',
    ],
    [
      'too big for any node',
      [node('n1', { cpu: 4 }), node('n2', { cpu: 16 })],
      { cpu: 64 },
      { resource: 'cpu', nodeId: 'n2', exceedsCapacity: true },
      "cpu: needs 64, best node n2 has 16 free (more than any node's capacity, 16)",
    ],
    [
      'memory is the normalised worst',
      [node('n1', { cpu: 4, memoryMb: 4096 }, { granted: { cpu: 3, memoryMb: 4000 } })],
      { cpu: 2, memoryMb: 2048 },
      { resource: 'memoryMb', needed: 2048, bestFree: 96 },
      'memoryMb: needs 2048, best node n1 has 96 free',
    ],
    ['no nodes', [], { cpu: 1 }, { code: 'no-nodes' }, 'no usable node (none registered, or all stale)'],
  ])('%s', (_name, nodes, desired, expected, message) => {
    const out = runCycle(snap(nodes, [req('r', desired)]), NOW, compileSchedulerConfig({ maxHolds: 0 }));
    const w = wait(out.decisions, 'r');
    expect(w.reason).toMatchObject({ ...expected, message });
    expect(out.queue[0]).toMatchObject({ decision: 'wait', reason: message });
  });
});

describe('backfill hold', () => {
  const nodes = [
    node('n1', { cpu: 8 }, { granted: { cpu: 6 } }),
    node('n2', { cpu: 4 }, { granted: { cpu: 1 } }),
  ];

  it('the top blocked request holds its closest node; a small one backfills elsewhere', () => {
    const s = snap(nodes, [
      req('big', { cpu: 6 }, { priority: 10 }),
      req('small', { cpu: 2 }, { priority: 2 }),
      req('small2', { cpu: 1 }, { priority: 1 }),
    ]);
    const out = runCycle(s, NOW);
    const big = wait(out.decisions, 'big');
    expect(big.hold).toEqual({ key: 'big', nodeId: 'n1', held: { cpu: 2 }, startsAt: null });
    expect(out.holds).toEqual([big.hold]);
    // n1 has 2 free but it is held: both small ones go to n2 (3 free).
    expect(grant(out.decisions, 'small').nodeId).toBe('n2');
    expect(grant(out.decisions, 'small2').nodeId).toBe('n2');
  });

  it('never lets a lower request take held capacity, and says so', () => {
    const s = snap(nodes, [
      req('big', { cpu: 6 }, { priority: 10 }),
      req('a', { cpu: 3 }, { priority: 2 }),
      req('b', { cpu: 2 }, { priority: 1 }),
    ]);
    const out = runCycle(s, NOW);
    expect(grant(out.decisions, 'a').nodeId).toBe('n2');
    const b = wait(out.decisions, 'b');
    expect(b.reason).toMatchObject({ code: 'held', heldBy: 'big' });
    expect(b.reason.message).toMatch(/; held for big$/);
    // Without holds, b would have taken n1's free capacity.
    const free = runCycle(s, NOW, compileSchedulerConfig({ maxHolds: 0 }));
    expect(grant(free.decisions, 'b').nodeId).toBe('n1');
  });

  it('capacity the hold does not need stays usable', () => {
    const s = snap(
      [node('n1', { cpu: 8, memoryMb: 8192 }, { granted: { cpu: 6 } })],
      [
        req('big', { cpu: 4, memoryMb: 1024 }, { priority: 10 }),
        req('mem', { memoryMb: 4096 }, { priority: 1 }),
      ],
    );
    const out = runCycle(s, NOW);
    expect(wait(out.decisions, 'big').hold?.held).toEqual({ cpu: 2, memoryMb: 1024 });
    expect(grant(out.decisions, 'mem').nodeId).toBe('n1');
  });

  it('a request that can never fit does not hold', () => {
    const out = runCycle(
      snap(nodes, [req('huge', { cpu: 100 }, { priority: 10 }), req('small', { cpu: 2 })]),
      NOW,
    );
    expect(wait(out.decisions, 'huge').hold).toBeUndefined();
    expect(grant(out.decisions, 'small').nodeId).toBe('n1');
  });
});

describe('sharding decisions', () => {
  const four = [node('n1', { cpu: 4 })];
  const twos = (n: number) => Array.from({ length: n }, (_, i) => node(`t${i}`, { cpu: 2 }));
  it.each([
    ['fits at k=1 → grant, no shard', four, { cpu: 4 }, { maxShards: 4 }, 'grant', undefined, undefined],
    ['8 cpu on a 4-cpu node → 2 shards in waves (1 now)', four, { cpu: 8 }, { maxShards: 4 }, 'shard', 2, 1],
    [
      'exact fit boundary: 6 cpu over 3 × 2 → k=3 at once',
      twos(3),
      { cpu: 6 },
      { maxShards: 8 },
      'shard',
      3,
      3,
    ],
    ['just over the boundary: 6.3 cpu → k=4, 3 now', twos(3), { cpu: 6.3 }, { maxShards: 8 }, 'shard', 4, 3],
    [
      'all at once beats fewer in waves: 8 cpu over 4 × 2',
      twos(4),
      { cpu: 8 },
      { maxShards: 8 },
      'shard',
      4,
      4,
    ],
    ['maxShards cap → wait', four, { cpu: 16 }, { maxShards: 3 }, 'wait', undefined, undefined],
    ['count sharding: 6 cpu over 4 × 2 → k=3', twos(4), { cpu: 6 }, { maxShards: 8 }, 'shard', 3, 3],
    [
      '7 items not divisible: largest slice 3/7 → k=4',
      twos(4),
      { cpu: 6 },
      { maxShards: 8, itemCount: 7 },
      'shard',
      4,
      4,
    ],
    [
      'k never exceeds the item count',
      twos(4),
      { cpu: 8 },
      { maxShards: 8, itemCount: 3 },
      'wait',
      undefined,
      undefined,
    ],
    [
      'minItemsPerShard caps k',
      four,
      { cpu: 12 },
      { maxShards: 8, itemCount: 10, minItemsPerShard: 5 },
      'wait',
      undefined,
      undefined,
    ],
    ['empty array → zero shards', four, { cpu: 8 }, { maxShards: 4, itemCount: 0 }, 'shard', 0, 0],
    ['no floor: 8 cpu over 4 × 2 → k=4', twos(4), { cpu: 8 }, { maxShards: 8 }, 'shard', 4, 4],
    [
      'a floor above every node keeps it waiting',
      twos(4),
      { cpu: 8 },
      { maxShards: 8, perShardFloor: { cpu: 3 } },
      'wait',
      undefined,
      undefined,
    ],
  ])('%s', (_name, nodes, desired, spec, kind, k, concurrent) => {
    const out = runCycle(snap(nodes, [req('r', desired, { shard: spec })]), NOW);
    const d = byKey(out.decisions, 'r');
    expect(d.kind).toBe(kind);
    if (kind === 'shard') expect(shard(out.decisions, 'r')).toMatchObject({ shardCount: k, concurrent });
  });

  it('reserves the slices for the rest of the cycle', () => {
    const out = runCycle(
      snap(
        [node('n1', { cpu: 4 }), node('n2', { cpu: 4 })],
        [
          req('big', { cpu: 8 }, { priority: 9, shard: { maxShards: 4 } }),
          req('small', { cpu: 1 }, { priority: 1 }),
        ],
      ),
      NOW,
    );
    expect(shard(out.decisions, 'big')).toMatchObject({
      shardCount: 2,
      concurrent: 2,
      perShard: { cpu: 4 },
      placements: [
        { nodeId: 'n1', count: 1 },
        { nodeId: 'n2', count: 1 },
      ],
    });
    expect(wait(out.decisions, 'small').reason.code).toBe('capacity');
    expect(out.queue[0]?.reason).toBe('sharded into 2 × cpu=4');
  });
});

describe('purity', () => {
  function workload() {
    const nodes = [
      node(
        'n1',
        { cpu: 8, memoryMb: 16384 },
        { granted: { cpu: 2 }, forecastUsage: { cpu: { value: 3, upper: 4 } } },
      ),
      node('n2', { cpu: 4, memoryMb: 8192 }),
      node('n3', { cpu: 16, memoryMb: 32768, gpu: 2 }, { stale: true }),
    ];
    const pending = Array.from({ length: 40 }, (_, i) =>
      req(
        `r${String(i).padStart(2, '0')}`,
        { cpu: 1 + (i % 5), memoryMb: 1024 * (1 + (i % 3)), ...(i % 7 === 0 ? { lic: 1 } : {}) },
        {
          priority: 1 + (i % 10),
          importance: i % 4,
          minimum: { cpu: 1, memoryMb: 512 },
          readySince: ago((i * 37) % 900),
          ...(i % 6 === 0 ? { shard: { maxShards: 4, itemCount: 10 } } : {}),
        },
      ),
    );
    return snap(nodes, pending, { pools: [pool('lic', 2)] });
  }

  it('same input → same output, whatever the input order', () => {
    const a = runCycle(workload(), NOW);
    const b = runCycle(workload(), NOW);
    expect(b).toEqual(a);
    const shuffled = workload();
    const c = runCycle(
      { ...shuffled, pending: [...shuffled.pending].reverse(), nodes: [...shuffled.nodes].reverse() },
      NOW,
    );
    expect(c).toEqual(a);
  });

  it('never mutates the snapshot (deep-frozen)', () => {
    const s = deepFreeze(workload());
    const copy = JSON.parse(JSON.stringify(s)) as unknown;
    const out = runCycle(s, NOW);
    expect(out.decisions).toHaveLength(40);
    expect(JSON.parse(JSON.stringify(s))).toEqual(copy);
  });

  it('never grants more than effective free capacity', () => {
    const s = workload();
    const out = runCycle(s, NOW, noMargin);
    const used = new Map<string, number>();
    for (const d of out.decisions) {
      if (d.kind === 'grant') used.set(d.nodeId, (used.get(d.nodeId) ?? 0) + (d.granted.cpu ?? 0));
    }
    expect(used.get('n1') ?? 0).toBeLessThanOrEqual(4 + 1e-9); // min(8 − 2, 8 − 4)
    expect(used.get('n2') ?? 0).toBeLessThanOrEqual(4 + 1e-9);
    expect(used.has('n3')).toBe(false);
    const lic = out.decisions.filter((d) => d.kind === 'grant' && (d.granted.lic ?? 0) > 0).length;
    expect(lic).toBeLessThanOrEqual(2);
  });
});

describe('validation', () => {
  it.each([
    [snap([node('n', { cpu: 1 }), node('n', { cpu: 1 })], []), 'nodes[1].id'],
    [snap([], [req('a', { cpu: 1 }), req('a', { cpu: 1 })]), 'pending[1].key'],
    [snap([], [req('a', { cpu: -1 })]), 'pending[0].desired.cpu'],
    [snap([], [req('a', { cpu: 1 }, { minimum: { cpu: 2 } })]), 'pending[0].minimum.cpu'],
    [snap([], [req('a', { cpu: 1 }, { priority: 0 })]), 'pending[0].priority'],
    [snap([], [req('a', { cpu: 1 }, { readySince: new Date(Number.NaN) })]), 'pending[0].readySince'],
    [snap([], [req('a', { cpu: 1 }, { shard: { maxShards: 0 } })]), 'pending[0].shard.maxShards'],
  ])('%#: names %s', (s, path) => {
    expect(() => runCycle(s, NOW)).toThrow(expect.objectContaining({ name: 'InvalidSnapshotError', path }));
  });
});
