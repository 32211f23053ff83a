import {
  compileSchedulerConfig,
  InvalidSnapshotError,
  runCycle,
  type CycleResult,
  type Decision,
  type GrantDecision,
  type WaitDecision,
} from '../../../src/scheduling';
import { NOW, node, req, running, snap } from './fixtures';

const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);

function byKey(out: CycleResult, key: string): Decision {
  const d = out.decisions.find((x) => x.key === key);
  if (d === undefined) throw new Error(`no decision for ${key}`);
  return d;
}
const grant = (out: CycleResult, k: string): GrantDecision => {
  const d = byKey(out, k);
  if (d.kind !== 'grant') throw new Error(`${k} was not granted: ${JSON.stringify(d)}`);
  return d;
};
const wait = (out: CycleResult, k: string): WaitDecision => {
  const d = byKey(out, k);
  if (d.kind !== 'wait') throw new Error(`${k} does not wait: ${JSON.stringify(d)}`);
  return d;
};

// n1: 8 cpu, 4 of them held by a grant expected to end in 100 s. The priority-10 `big` wants all 8: it holds
// the 4 free cpu (it needs them all at its start: no extra capacity) and is projected to fit at +100 s.
const n1 = node('n1', { cpu: 8 }, { granted: { cpu: 4 } });
const ending = running('a', 'n1', { cpu: 4 }, { expectedEndAt: at(100) });
const big = req('big', { cpu: 8 }, { priority: 10 });

describe('backfill by expected run time', () => {
  it('the holder is projected to start when enough running grants end', () => {
    const out = runCycle(snap([n1], [big], { running: [ending] }), NOW);
    expect(wait(out, 'big').hold).toEqual({ key: 'big', nodeId: 'n1', held: { cpu: 4 }, startsAt: at(100) });
    expect(out.queue[0]?.reason).toMatch(/expected to fit at 2026-01-01T00:11:40\.000Z$/);
  });

  it('the projection takes the earliest ends first and waits for the one that makes it fit', () => {
    const out = runCycle(
      snap([node('n1', { cpu: 8 }, { granted: { cpu: 6 } })], [big], {
        running: [
          running('late', 'n1', { cpu: 3 }, { expectedEndAt: at(300) }),
          running('early', 'n1', { cpu: 3 }, { expectedEndAt: at(50) }),
        ],
      }),
      NOW,
    );
    // Free 2; +50 s → 5 (not 8); +300 s → 8.
    expect(wait(out, 'big').hold?.startsAt).toEqual(at(300));
  });

  it.each([
    ['ends before the holder starts: backfills into the hold', 60, 'grant'],
    ['ends exactly when the holder starts: still in time', 100, 'grant'],
    ['would still run when the holder starts: waits', 101, 'wait'],
  ])('%s', (_name, seconds, kind) => {
    const small = req('small', { cpu: 2 }, { priority: 1, expectedSeconds: seconds });
    const out = runCycle(snap([n1], [big, small], { running: [ending] }), NOW);
    expect(byKey(out, 'small').kind).toBe(kind);
    if (kind === 'grant') {
      expect(grant(out, 'small')).toMatchObject({ nodeId: 'n1', granted: { cpu: 2 }, reduced: false });
      // The hold keeps what is still free; the holder's start does not move.
      expect(out.holds).toEqual([{ key: 'big', nodeId: 'n1', held: { cpu: 2 }, startsAt: at(100) }]);
      expect(wait(out, 'big').hold).toEqual(out.holds[0]);
      expect(out.queue.find((e) => e.key === 'small')?.reason).toMatch(
        /^backfilled on n1: ends by .* before big/,
      );
    } else {
      expect(wait(out, 'small').reason).toMatchObject({ code: 'held', heldBy: 'big' });
    }
  });

  it('a request of unknown run time never backfills', () => {
    const out = runCycle(
      snap([n1], [big, req('small', { cpu: 2 }, { priority: 1 })], { running: [ending] }),
      NOW,
    );
    expect(wait(out, 'small').reason).toMatchObject({ code: 'held', heldBy: 'big' });
  });

  it('nothing backfills when the holder waits on a grant of unknown end', () => {
    const unknown = running('a', 'n1', { cpu: 4 });
    const small = req('small', { cpu: 1 }, { priority: 1, expectedSeconds: 1 });
    const out = runCycle(snap([n1], [big, small], { running: [unknown] }), NOW);
    expect(wait(out, 'big').hold?.startsAt).toBeNull();
    expect(wait(out, 'small').reason.code).toBe('held');
  });

  it('backfills reduced when only part fits, if the stretched run still ends in time', () => {
    // 4 free are held; `mid` wants 6 (minimum 2): 4 fit, so it runs at 4/6 speed: 60 s → 90 s ≤ 100 s.
    const fits = req('mid', { cpu: 6 }, { priority: 1, minimum: { cpu: 2 }, expectedSeconds: 60 });
    const out = runCycle(snap([n1], [big, fits], { running: [ending] }), NOW);
    expect(grant(out, 'mid')).toMatchObject({ nodeId: 'n1', granted: { cpu: 4 }, reduced: true });
    // 70 s at 4/6 speed is 105 s: too long.
    const slow = req('mid', { cpu: 6 }, { priority: 1, minimum: { cpu: 2 }, expectedSeconds: 70 });
    expect(byKey(runCycle(snap([n1], [big, slow], { running: [ending] }), NOW), 'mid').kind).toBe('wait');
  });

  it("this cycle's grants count as releases after their expected run time", () => {
    const n = node('n', { cpu: 8 });
    const first = req('first', { cpu: 6 }, { priority: 10, expectedSeconds: 30 });
    const second = req('second', { cpu: 8 }, { priority: 9 });
    const quick = req('quick', { cpu: 2 }, { priority: 1, expectedSeconds: 20 });
    const out = runCycle(snap([n], [first, second, quick]), NOW);
    expect(grant(out, 'first').nodeId).toBe('n');
    expect(wait(out, 'second').hold?.startsAt).toEqual(at(30));
    expect(grant(out, 'quick').nodeId).toBe('n');
    // Every backfilled grant has ended by the time the holder is projected to fit.
    const lateQuick = req('quick', { cpu: 2 }, { priority: 1, expectedSeconds: 31 });
    expect(wait(runCycle(snap([n], [first, second, lateQuick]), NOW), 'quick').reason.code).toBe('held');
  });

  it('with holds turned off there is nothing to backfill into', () => {
    const small = req('small', { cpu: 2 }, { priority: 1, expectedSeconds: 500 });
    const out = runCycle(
      snap([n1], [big, small], { running: [ending] }),
      NOW,
      compileSchedulerConfig({ maxHolds: 0 }),
    );
    // No hold: the small one simply takes free capacity, whatever its run time.
    expect(grant(out, 'small').nodeId).toBe('n1');
    expect(out.holds).toEqual([]);
  });

  it.each([
    [
      'negative expectedSeconds',
      snap([n1], [req('r', { cpu: 1 }, { expectedSeconds: -1 })]),
      'pending[0].expectedSeconds',
    ],
    [
      'non-finite expectedSeconds',
      snap([n1], [req('r', { cpu: 1 }, { expectedSeconds: Number.NaN })]),
      'pending[0].expectedSeconds',
    ],
    [
      'invalid expectedEndAt',
      snap([n1], [big], { running: [running('a', 'n1', { cpu: 4 }, { expectedEndAt: new Date('nope') })] }),
      'running[0].expectedEndAt',
    ],
  ])('rejects %s, naming the field', (_name, s, path) => {
    expect(() => runCycle(s, NOW)).toThrow(InvalidSnapshotError);
    expect(() => runCycle(s, NOW)).toThrow(path);
  });
});
