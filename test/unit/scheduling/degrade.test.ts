import { degrade } from '../../../src/scheduling';
import { NOW, ago, node, pool, req, running, snap } from './fixtures';

describe('degrade', () => {
  const n1 = node('n1', { cpu: 8 }, { granted: { cpu: 8 } });

  it('shrinks the lowest standing grants first, never below minimum', () => {
    const s = snap([n1], [req('urgent', { cpu: 4 }, { priority: 10, minimum: { cpu: 3 } })], {
      running: [
        running('low', 'n1', { cpu: 4 }, { priority: 1, minimum: { cpu: 2 }, desired: { cpu: 4 } }),
        running('mid', 'n1', { cpu: 4 }, { priority: 5, minimum: { cpu: 1 }, desired: { cpu: 4 } }),
      ],
    });
    expect(degrade({ snapshot: s, requestKey: 'urgent', now: NOW })).toEqual({
      forKey: 'urgent',
      nodeId: 'n1',
      offers: [
        { key: 'low', nodeId: 'n1', from: { cpu: 4 }, to: { cpu: 2 } },
        { key: 'mid', nodeId: 'n1', from: { cpu: 4 }, to: { cpu: 3 } },
      ],
    });
  });

  it.each([
    ['higher-standing grants are not touched', 1, 10],
    ['nothing to give', 10, 1],
  ])('%s → null', (_n, blockedPriority, runningPriority) => {
    const minimum = blockedPriority === 10 ? { cpu: 8 } : { cpu: 1 };
    const s = snap([n1], [req('b', { cpu: 4 }, { priority: blockedPriority })], {
      running: [running('r', 'n1', { cpu: 8 }, { priority: runningPriority, minimum, desired: { cpu: 8 } })],
    });
    expect(degrade({ snapshot: s, requestKey: 'b', now: NOW })).toBeNull();
  });

  it('age lifts a blocked low-priority request above fresh grants', () => {
    const s = snap([n1], [req('old', { cpu: 2 }, { priority: 1, readySince: ago(28_800) })], {
      running: [running('r', 'n1', { cpu: 8 }, { priority: 10, minimum: { cpu: 4 }, desired: { cpu: 8 } })],
    });
    expect(degrade({ snapshot: s, requestKey: 'old', now: NOW })?.offers).toEqual([
      { key: 'r', nodeId: 'n1', from: { cpu: 8 }, to: { cpu: 6 } },
    ]);
  });

  it('covers pool shortfalls cluster-wide', () => {
    const s = snap(
      [node('n1', { cpu: 8 }), node('n2', { cpu: 8 })],
      [req('b', { cpu: 1, lic: 2 }, { priority: 10 })],
      {
        pools: [pool('lic', 4, 4)],
        running: [running('r', 'n2', { cpu: 1, lic: 4 }, { priority: 1, minimum: { cpu: 1, lic: 1 } })],
      },
    );
    expect(degrade({ snapshot: s, requestKey: 'b', now: NOW })).toEqual({
      forKey: 'b',
      nodeId: 'n1',
      offers: [{ key: 'r', nodeId: 'n2', from: { cpu: 1, lic: 4 }, to: { cpu: 1, lic: 2 } }],
    });
  });

  it('returns null when the request already fits, and throws for an unknown key', () => {
    const s = snap([node('n1', { cpu: 8 })], [req('b', { cpu: 1 })]);
    expect(degrade({ snapshot: s, requestKey: 'b', now: NOW })).toBeNull();
    expect(() => degrade({ snapshot: s, requestKey: 'nope', now: NOW })).toThrow(
      expect.objectContaining({ name: 'InvalidSnapshotError', path: 'requestKey' }),
    );
  });
});
