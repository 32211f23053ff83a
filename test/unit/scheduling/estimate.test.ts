import { estimateStarts, type ClusterSnapshot } from '../../../src/scheduling';
import { NOW, node, pool, req, running } from './fixtures';

/** A snapshot from named parts. */
function snap(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return { nodes: [], pending: [], pools: [], running: [], ...parts };
}

const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);
const asSeconds = (m: Map<string, Date | null>): Record<string, number | null> =>
  Object.fromEntries([...m].map(([k, d]) => [k, d === null ? null : (d.getTime() - NOW.getTime()) / 1000]));

function run(
  s: ClusterSnapshot,
  order: string[],
  ends: Record<string, number>,
  expected: Record<string, number>,
  limit?: number,
): Record<string, number | null> {
  // Expected ends and run times go on the snapshot's grants and requests, where the core reads them.
  const snapshot: ClusterSnapshot = {
    ...s,
    running: s.running.map((g) => (g.key in ends ? { ...g, expectedEndAt: at(ends[g.key] as number) } : g)),
    pending: s.pending.map((r) => (r.key in expected ? { ...r, expectedSeconds: expected[r.key] } : r)),
  };
  return asSeconds(estimateStarts({ snapshot, now: NOW, order, ...(limit === undefined ? {} : { limit }) }));
}

describe('estimateStarts', () => {
  it.each<
    [
      string,
      ClusterSnapshot,
      string[],
      Record<string, number>,
      Record<string, number>,
      Record<string, number | null>,
    ]
  >([
    [
      'waits for the running grant to end',
      snap({
        nodes: [node('n1', { cpu: 4 }, { granted: { cpu: 4 } })],
        running: [running('g', 'n1', { cpu: 4 })],
        pending: [req('a', { cpu: 2 })],
      }),
      ['a'],
      { g: 30 },
      { a: 10 },
      { a: 30 },
    ],
    [
      'queues in rank order behind earlier estimates',
      snap({
        nodes: [node('n1', { cpu: 4 }, { granted: { cpu: 4 } })],
        running: [running('g', 'n1', { cpu: 4 })],
        pending: [req('a', { cpu: 4 }), req('b', { cpu: 4 })],
      }),
      ['a', 'b'],
      { g: 30 },
      { a: 10, b: 5 },
      { a: 30, b: 40 },
    ],
    [
      'backfills a short request into a gap without delaying the earlier one',
      snap({
        nodes: [node('n1', { cpu: 4 }, { granted: { cpu: 2 } })],
        running: [running('g', 'n1', { cpu: 2 })],
        pending: [req('big', { cpu: 4 }), req('short', { cpu: 2 }), req('long', { cpu: 2 })],
      }),
      ['big', 'short', 'long'],
      { g: 30 },
      { big: 10, short: 20, long: 40 },
      // big starts at 30 (when g ends); short fits now and ends by 20; long would overlap big: after it.
      { big: 30, short: 0, long: 40 },
    ],
    [
      'picks the node where it starts first',
      snap({
        nodes: [
          node('n1', { cpu: 4 }, { granted: { cpu: 4 } }),
          node('n2', { cpu: 4 }, { granted: { cpu: 4 } }),
        ],
        running: [running('g1', 'n1', { cpu: 4 }), running('g2', 'n2', { cpu: 4 })],
        pending: [req('a', { cpu: 4 })],
      }),
      ['a'],
      { g1: 50, g2: 20 },
      { a: 10 },
      { a: 20 },
    ],
    [
      'a grant with no expected end never releases (conservative): null',
      snap({
        nodes: [node('n1', { cpu: 4 }, { granted: { cpu: 4 } })],
        running: [running('g', 'n1', { cpu: 4 })],
        pending: [req('a', { cpu: 2 })],
      }),
      ['a'],
      {},
      { a: 10 },
      { a: null },
    ],
    [
      'a request with no expected run time holds for ever',
      snap({ nodes: [node('n1', { cpu: 4 })], pending: [req('a', { cpu: 4 }), req('b', { cpu: 1 })] }),
      ['a', 'b'],
      {},
      { b: 5 },
      { a: 0, b: null },
    ],
    [
      'pools count cluster-wide',
      snap({
        nodes: [node('n1', { cpu: 8 })],
        pools: [pool('db', 2, 2)],
        running: [running('g', 'n1', { db: 2 })],
        pending: [req('a', { cpu: 1, db: 1 })],
      }),
      ['a'],
      { g: 15 },
      { a: 10 },
      { a: 15 },
    ],
  ])('%s', (_what, s, order, ends, expected, result) => {
    expect(run(s, order, ends, expected)).toEqual(result);
  });

  it('estimates at most `limit` requests and skips unknown keys', () => {
    const s = snap({
      nodes: [node('n1', { cpu: 4 })],
      pending: [req('a', { cpu: 4 }), req('b', { cpu: 4 })],
    });
    expect(run(s, ['zz', 'a', 'b'], {}, { a: 10, b: 10 }, 1)).toEqual({ a: 0, b: null });
  });
});
