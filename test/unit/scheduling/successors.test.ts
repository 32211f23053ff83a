import {
  assignSuccessors,
  runCycle,
  type ClusterSnapshot,
  type GrantDecision,
} from '../../../src/scheduling';
import { deepFreeze, NOW, node, req, running, snap } from './fixtures';

const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const HORIZON = 1000;

/** The cycle, then the successor pass, as the ledger cycle runs them. */
function decide(s: ClusterSnapshot, horizonMs = HORIZON): ReturnType<typeof runCycle> {
  return assignSuccessors(s, runCycle(s, NOW), NOW, horizonMs);
}
const kinds = (out: ReturnType<typeof runCycle>): Record<string, string> =>
  Object.fromEntries(
    out.decisions.map((d) => [
      d.key,
      d.kind === 'grant' && d.behind !== undefined ? `behind ${d.behind}` : d.kind,
    ]),
  );

// A full 2-cpu node: two 1-cpu stages running, one ending in 300 ms, one in 5 s.
const full = node('n1', { cpu: 2 }, { granted: { cpu: 2 } });
const soon = running('soon', 'n1', { cpu: 1 }, { expectedEndAt: at(300) });
const late = running('late', 'n1', { cpu: 1 }, { expectedEndAt: at(5000) });

describe('successor grants', () => {
  it('the head of the queue is granted behind the running stage that ends soonest, carved from its grant', () => {
    const out = decide(
      snap([full], [req('a', { cpu: 1 }, { priority: 9 }), req('b', { cpu: 1 })], { running: [soon, late] }),
    );
    const a = out.decisions[0] as GrantDecision;
    expect(a).toEqual({
      kind: 'grant',
      key: 'a',
      nodeId: 'n1',
      taskQueue: 'qm-n1',
      granted: { cpu: 1 },
      reduced: false,
      behind: 'soon',
    });
    // `late` ends beyond the horizon: b waits, and the queue row says where a went.
    expect(kinds(out)).toEqual({ a: 'behind soon', b: 'wait' });
    expect(out.queue[0]).toMatchObject({
      key: 'a',
      decision: 'grant',
      reason: 'behind soon on n1 (expected to end 300 ms from now)',
    });
  });

  it('without the pass (or with horizon 0) the same requests wait: the pass only adds grants behind', () => {
    const s = snap([full], [req('a', { cpu: 1 })], { running: [soon] });
    expect(kinds(runCycle(s, NOW))).toEqual({ a: 'wait' });
    expect(kinds(decide(s, 0))).toEqual({ a: 'wait' });
    expect(decide(s, 0)).toEqual(runCycle(s, NOW));
  });

  it('one successor per predecessor; the first waiting request that finds none ends the pass (nothing overtakes it)', () => {
    const two = [
      running('p1', 'n1', { cpu: 1 }, { expectedEndAt: at(100) }),
      running('p2', 'n1', { cpu: 1 }, { expectedEndAt: at(200) }),
    ];
    const out = decide(
      snap(
        [full],
        [
          req('a', { cpu: 1 }, { priority: 9 }),
          req('b', { cpu: 1 }, { priority: 8 }),
          req('c', { cpu: 1 }, { priority: 7 }),
        ],
        { running: two },
      ),
    );
    expect(kinds(out)).toEqual({ a: 'behind p1', b: 'behind p2', c: 'wait' });
    // A 2-cpu head fits behind neither 1-cpu grant: the 1-cpu request after it does not jump it.
    const blocked = decide(
      snap([full], [req('big', { cpu: 2 }, { priority: 9 }), req('small', { cpu: 1 })], { running: two }),
    );
    expect(kinds(blocked)).toEqual({ big: 'wait', small: 'wait' });
  });

  it('a request takes less than desired behind a smaller grant only down to its minimum (reduced)', () => {
    const p = running('p', 'n1', { cpu: 1, memoryMb: 512 }, { expectedEndAt: at(100) });
    const flexible = req('f', { cpu: 2, memoryMb: 256 }, { minimum: { cpu: 1, memoryMb: 256 } });
    const out = decide(snap([full], [flexible], { running: [p] }));
    expect(out.decisions[0]).toMatchObject({
      kind: 'grant',
      behind: 'p',
      granted: { cpu: 1, memoryMb: 256 },
      reduced: true,
    });
    const rigid = req('r', { cpu: 2 });
    expect(kinds(decide(snap([full], [rigid], { running: [p] })))).toEqual({ r: 'wait' });
    // A resource the predecessor does not hold cannot be carved from it.
    const needsGpu = req('g', { cpu: 1, gpu: 1 });
    expect(kinds(decide(snap([full], [needsGpu], { running: [p] })))).toEqual({ g: 'wait' });
  });

  it.each([
    ['ends beyond the horizon', { expectedEndAt: at(1001) }],
    ['overran its expected end by more than the horizon', { expectedEndAt: at(-1001) }],
    ['has no expected end (unknown run time, or already followed)', {}],
  ])('a grant that %s is no predecessor', (_why, extra) => {
    const p = running('p', 'n1', { cpu: 1 }, extra);
    expect(kinds(decide(snap([full], [req('a', { cpu: 1 })], { running: [p] })))).toEqual({ a: 'wait' });
  });

  it('a grant that overran by less than the horizon still is one, and so is one ending exactly at the horizon', () => {
    for (const end of [at(-1000), at(1000)]) {
      const p = running('p', 'n1', { cpu: 1 }, { expectedEndAt: end });
      expect(kinds(decide(snap([full], [req('a', { cpu: 1 })], { running: [p] })))).toEqual({
        a: 'behind p',
      });
    }
  });

  it('nothing is granted behind a grant on a stale node, and the node to avoid is used only when no other will do', () => {
    const stale = node('n1', { cpu: 2 }, { granted: { cpu: 2 }, stale: true });
    expect(kinds(decide(snap([stale], [req('a', { cpu: 1 })], { running: [soon] })))).toEqual({ a: 'wait' });
    const n2 = node('n2', { cpu: 1 }, { granted: { cpu: 1 } });
    const other = running('other', 'n2', { cpu: 1 }, { expectedEndAt: at(900) });
    const avoiding = req('a', { cpu: 1 }, { avoidNodeId: 'n1' });
    expect(kinds(decide(snap([full, n2], [avoiding], { running: [soon, other] })))).toEqual({
      a: 'behind other',
    });
    expect(kinds(decide(snap([full], [avoiding], { running: [soon] })))).toEqual({ a: 'behind soon' });
  });

  it('requests the cycle granted or split keep their decisions; the holds of requests granted behind are dropped', () => {
    const n2 = node('n2', { cpu: 1 });
    const s = snap([full, n2], [req('fits', { cpu: 1 }, { priority: 9 }), req('next', { cpu: 1 })], {
      running: [soon],
    });
    const cycle = runCycle(s, NOW);
    expect(kinds(cycle)).toEqual({ fits: 'grant', next: 'wait' });
    expect(cycle.holds.map((h) => h.key)).toEqual(['next']);
    const out = assignSuccessors(s, cycle, NOW, HORIZON);
    expect(kinds(out)).toEqual({ fits: 'grant', next: 'behind soon' });
    expect(out.decisions[0]).toBe(cycle.decisions[0]);
    expect(out.holds).toEqual([]);
  });

  it('is pure: a frozen snapshot and result are not touched, and an unchanged result is returned as it is', () => {
    const s = deepFreeze(snap([full], [req('a', { cpu: 1 })], { running: [soon] }));
    const cycle = deepFreeze(runCycle(s, NOW));
    expect(kinds(assignSuccessors(s, cycle, NOW, HORIZON))).toEqual({ a: 'behind soon' });
    const none = deepFreeze(snap([full], [req('a', { cpu: 1 })], { running: [late] }));
    const unchanged = runCycle(none, NOW);
    expect(assignSuccessors(none, unchanged, NOW, HORIZON)).toBe(unchanged);
  });

  it('successors chain within the horizon: each one granted with a known run time can be followed in turn', () => {
    const one = node('n1', { cpu: 1 }, { granted: { cpu: 1 } });
    const p = running('p', 'n1', { cpu: 1 }, { expectedEndAt: at(100) });
    const queue = ['a', 'b', 'c', 'd', 'e'].map((k, i) =>
      req(k, { cpu: 1 }, { priority: 9 - i, expectedSeconds: 0.3 }),
    );
    // a ends at +400 ms, b at +700, c at +1000 (the horizon: still one to follow), d at +1300 (beyond it).
    expect(kinds(decide(snap([one], queue, { running: [p] })))).toEqual({
      a: 'behind p',
      b: 'behind a',
      c: 'behind b',
      d: 'behind c',
      e: 'wait',
    });
    // A request of unknown run time ends a chain: nobody is granted behind it.
    const unknown = [req('u', { cpu: 1 }, { priority: 9 }), req('v', { cpu: 1 }, { expectedSeconds: 0.1 })];
    expect(kinds(decide(snap([one], unknown, { running: [p] })))).toEqual({ u: 'behind p', v: 'wait' });
  });

  it('the ends of existing chains (tails) are predecessors like running grants', () => {
    const tail = running('s1', 'n1', { cpu: 1 }, { expectedEndAt: at(200) });
    const s = snap([full], [req('a', { cpu: 1 })], { running: [late] });
    expect(kinds(assignSuccessors(s, runCycle(s, NOW), NOW, HORIZON, [tail]))).toEqual({ a: 'behind s1' });
    const farTail = running('s1', 'n1', { cpu: 1 }, { expectedEndAt: at(1500) });
    expect(kinds(assignSuccessors(s, runCycle(s, NOW), NOW, HORIZON, [farTail]))).toEqual({ a: 'wait' });
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects a horizon of %p', (h) => {
    const s = snap([full], [], { running: [soon] });
    expect(() => assignSuccessors(s, runCycle(s, NOW), NOW, h)).toThrow(RangeError);
  });
});
