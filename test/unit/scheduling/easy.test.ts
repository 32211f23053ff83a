/**
 * EASY semantics of the hold (shadow time + extra capacity, per node and per resource), arrival-order ties,
 * strict order, stable holds and the starvation head (the oldest saturated request first). Every expected number is worked out by
 * hand in the comments.
 */
import {
  compileSchedulerConfig,
  runCycle,
  type CycleResult,
  type Decision,
  type PendingRequest,
} from '../../../src/scheduling';
import { ago, NOW, node, pool, req, running, snap } from './fixtures';

const at = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);

function kindOf(out: CycleResult, key: string): Decision['kind'] {
  const d = out.decisions.find((x) => x.key === key);
  if (d === undefined) throw new Error(`no decision for ${key}`);
  return d.kind;
}
const ranks = (out: CycleResult): string[] => out.queue.map((e) => e.key);

// n1: 8 cpu, 4 granted to `a`, expected to end at +100 s. `big` (priority 10) wants 6: free 4 now, 8 at
// +100 s (the shadow time), so it needs only 6 − 4 = 2 of today's free cpu then: it holds 2, and the other
// 2 are extra — any request may take them, however long it runs.
const n1 = node('n1', { cpu: 8 }, { granted: { cpu: 4 } });
const ending = running('a', 'n1', { cpu: 4 }, { expectedEndAt: at(100) });
const big = req('big', { cpu: 6 }, { priority: 10 });

describe('EASY hold: shadow time and extra capacity', () => {
  it('holds only what the holder still needs at its shadow time', () => {
    const out = runCycle(snap([n1], [big], { running: [ending] }), NOW);
    expect(out.holds).toEqual([{ key: 'big', nodeId: 'n1', held: { cpu: 2 }, startsAt: at(100) }]);
  });

  it('a long request takes the extra capacity; the next long one waits; a short one backfills the hold', () => {
    const long1 = req('long1', { cpu: 2 }, { priority: 3, expectedSeconds: 1000 });
    const long2 = req('long2', { cpu: 2 }, { priority: 2, expectedSeconds: 1000 });
    const short = req('short', { cpu: 2 }, { priority: 1, expectedSeconds: 50 });
    const out = runCycle(snap([n1], [big, long1, long2, short], { running: [ending] }), NOW);
    // long1: 2 free beyond the hold → granted (extra). long2: 0 free, ends at +1000 > +100 → waits.
    // short: ends at +50 ≤ +100 → into the hold's 2 cpu; the hold keeps 0.
    expect(['big', 'long1', 'long2', 'short'].map((k) => kindOf(out, k))).toEqual([
      'wait',
      'grant',
      'wait',
      'grant',
    ]);
    expect(out.holds).toEqual([{ key: 'big', nodeId: 'n1', held: {}, startsAt: at(100) }]);
    // At +100 s: a's 4 and short's 2 are back, long1 keeps 2: 6 free, exactly big's need.
  });

  it('a request of unknown run time may use the extra capacity, never the held part', () => {
    const unknown2 = req('u2', { cpu: 2 }, { priority: 1 });
    const unknown3 = req('u3', { cpu: 3 }, { priority: 1 });
    expect(kindOf(runCycle(snap([n1], [big, unknown2], { running: [ending] }), NOW), 'u2')).toBe('grant');
    expect(kindOf(runCycle(snap([n1], [big, unknown3], { running: [ending] }), NOW), 'u3')).toBe('wait');
  });

  it('is per resource: extra cpu does not make extra memory', () => {
    // memoryMb: 8 capacity, 4 granted (returning at +100): big needs all 8 then → holds the 4 free.
    const n = node('n1', { cpu: 8, memoryMb: 8 }, { granted: { cpu: 4, memoryMb: 4 } });
    const a = running('a', 'n1', { cpu: 4, memoryMb: 4 }, { expectedEndAt: at(100) });
    const b = req('big', { cpu: 6, memoryMb: 8 }, { priority: 10 });
    const cpuOnly = req('cpuOnly', { cpu: 2 }, { priority: 1, expectedSeconds: 1000 });
    const withMem = req('withMem', { cpu: 2, memoryMb: 1 }, { priority: 1, expectedSeconds: 1000 });
    const out = runCycle(snap([n], [b, cpuOnly, withMem], { running: [a] }), NOW);
    expect(out.holds[0]?.held).toEqual({ cpu: 2, memoryMb: 4 });
    expect(kindOf(out, 'cpuOnly')).toBe('grant');
    expect(kindOf(out, 'withMem')).toBe('wait');
  });

  it('pools: releases anywhere count, and the extra units may be taken', () => {
    // lic: 4 units, 3 granted to `a` (ending +100). big needs 2 lic at its start: 1 free + 3 released ≥ 2,
    // so it holds max(0, 2 − 3) = 0 of the free unit; `other` may take it for as long as it likes.
    const nodes = [node('n1', { cpu: 8 }, { granted: { cpu: 8 } }), node('n2', { cpu: 9 })];
    const a = running('a', 'n1', { cpu: 8, lic: 3 }, { expectedEndAt: at(100) });
    const b = req('big', { cpu: 8, lic: 2 }, { priority: 10 });
    const other = req('other', { cpu: 1, lic: 1 }, { priority: 1, expectedSeconds: 10_000 });
    const out = runCycle(snap(nodes, [b, other], { running: [a], pools: [pool('lic', 4, 3)] }), NOW);
    // big needs 8 cpu: n1 frees 8 at +100; n2 has 9 free now but lic is short (1 < 2) until +100 too. Tie
    // at +100: n2 is closer now. It holds 8 of n2's 9 cpu (nothing returns there) and none of the lic.
    expect(out.holds).toEqual([{ key: 'big', nodeId: 'n2', held: { cpu: 8 }, startsAt: at(100) }]);
    expect(kindOf(out, 'other')).toBe('grant');
  });

  it('the holder goes to the node where it fits soonest, not the one closest now', () => {
    // n1: 2 free, the rest returns at +500; n2: 1 free, the rest returns at +50. big4 wants 4.
    const nodes = [
      node('n1', { cpu: 8 }, { granted: { cpu: 6 } }),
      node('n2', { cpu: 8 }, { granted: { cpu: 7 } }),
    ];
    const r = [
      running('x', 'n1', { cpu: 6 }, { expectedEndAt: at(500) }),
      running('y', 'n2', { cpu: 7 }, { expectedEndAt: at(50) }),
    ];
    const out = runCycle(snap(nodes, [req('big4', { cpu: 4 })], { running: r }), NOW);
    // On n2 at +50: 1 + 7 = 8 free, needs 4 − 7 < 0 of today's free → holds nothing.
    expect(out.holds).toEqual([{ key: 'big4', nodeId: 'n2', held: {}, startsAt: at(50) }]);
  });

  it('a holder waiting on a grant of unknown end holds everything it can (no extra)', () => {
    const out = runCycle(snap([n1], [big], { running: [running('a', 'n1', { cpu: 4 })] }), NOW);
    expect(out.holds).toEqual([{ key: 'big', nodeId: 'n1', held: { cpu: 4 }, startsAt: null }]);
  });
});

describe('ties follow arrival, never the key string', () => {
  it('equal scores and readySince: the lower sequence goes first', () => {
    const n = node('n1', { cpu: 1 });
    const pendings = [
      req('s10-job', { cpu: 1 }, { sequence: 2 }),
      req('s9-job', { cpu: 1 }, { sequence: 1 }),
    ];
    const out = runCycle(snap([n], pendings), NOW);
    expect(kindOf(out, 's9-job')).toBe('grant');
    expect(ranks(out)).toEqual(['s9-job', 's10-job']);
  });

  it('shards of one stage follow their index after the sequence', () => {
    const n = node('n1', { cpu: 1 });
    const shard = (i: number): PendingRequest =>
      req(`st#${i}`, { cpu: 1 }, { sequence: 7, shardIndex: i, readySince: ago(10) });
    const out = runCycle(snap([n], [shard(10), shard(2), shard(9)]), NOW);
    expect(ranks(out)).toEqual(['st#2', 'st#9', 'st#10']);
  });
});

describe('strict order', () => {
  it('nothing overtakes the first waiting request', () => {
    const n = node('n1', { cpu: 4 }, { granted: { cpu: 2 } });
    const fifo = { weights: { priority: 0, importance: 0, fit: 0, size: 0, age: 1 }, maxHolds: 0 };
    const config = compileSchedulerConfig({ ...fifo, strictOrder: true });
    const out = runCycle(
      snap([n], [req('head', { cpu: 4 }, { readySince: ago(60) }), req('small', { cpu: 1 })]),
      NOW,
      config,
    );
    expect(kindOf(out, 'head')).toBe('wait');
    expect(kindOf(out, 'small')).toBe('wait');
    // Without strict order, first fit lets the small one start.
    expect(
      kindOf(
        runCycle(
          snap([n], [req('head', { cpu: 4 }, { readySince: ago(60) }), req('small', { cpu: 1 })]),
          NOW,
          compileSchedulerConfig(fifo),
        ),
        'small',
      ),
    ).toBe('grant');
  });
});

describe('stable holds', () => {
  // n: 4 cpu, all granted until +100. Both want 4: only one holds.
  const n = node('n1', { cpu: 4 }, { granted: { cpu: 4 } });
  const r = [running('a', 'n1', { cpu: 4 }, { expectedEndAt: at(100) })];
  const p6 = req('p6', { cpu: 4 }, { priority: 6 });
  const p7 = req('p7', { cpu: 4 }, { priority: 7 });
  const p10 = req('p10', { cpu: 4 }, { priority: 10 });

  it('without a previous holder, the top request holds', () => {
    expect(runCycle(snap([n], [p6, p7], { running: r }), NOW).holds[0]?.key).toBe('p7');
  });

  it('the previous holder keeps its hold against a request within the margin', () => {
    // p7 − p6 = 1/9 ≈ 0.11 ≤ 0.3 (w.fit + w.size).
    const out = runCycle({ ...snap([n], [p6, p7], { running: r }), holders: ['p6'] }, NOW);
    expect(out.holds[0]?.key).toBe('p6');
    expect(ranks(out)[0]).toBe('p6');
  });

  it('a request outranking it by more than the margin takes the hold', () => {
    // p10 − p6 = 4/9 ≈ 0.44 > 0.3: it changes hands; with a margin of 0.5 it is kept.
    const snapshot = { ...snap([n], [p6, p10], { running: r }), holders: ['p6'] };
    expect(runCycle(snapshot, NOW).holds[0]?.key).toBe('p10');
    const wide = compileSchedulerConfig({ holdSwitchMargin: 0.5 });
    expect(runCycle(snapshot, NOW, wide).holds[0]?.key).toBe('p6');
    const never = compileSchedulerConfig({ holdSwitchMargin: Infinity });
    const old = req('old', { cpu: 4 }, { priority: 10, readySince: ago(7200) });
    expect(runCycle({ ...snapshot, pending: [p6, old] }, NOW, never).holds[0]?.key).toBe('p6');
  });

  it('a holder that fits is granted first, before higher-scored requests', () => {
    const free = node('n1', { cpu: 4 });
    const out = runCycle({ ...snap([free], [p6, p7]), holders: ['p6'] }, NOW);
    expect(kindOf(out, 'p6')).toBe('grant');
    expect(kindOf(out, 'p7')).toBe('wait');
  });

  it('rejects a negative margin', () => {
    expect(() => compileSchedulerConfig({ holdSwitchMargin: -1 })).toThrow(/holdSwitchMargin/);
  });
});

describe('the starvation bound between old requests (the oldest saturated request first)', () => {
  const n = node('n1', { cpu: 1 }, { granted: { cpu: 1 } });
  const config = compileSchedulerConfig({ holdSwitchMargin: 0, ageSaturationSeconds: 3600 });

  it('two saturated requests: the older goes first, whatever priority, size or fit say', () => {
    const oldLow = req('oldLow', { cpu: 1, memoryMb: 1 }, { priority: 1, readySince: ago(5000) });
    const youngHigh = req('youngHigh', { cpu: 1 }, { priority: 10, importance: 50, readySince: ago(3700) });
    expect(ranks(runCycle(snap([n], [youngHigh, oldLow]), NOW, config))).toEqual(['oldLow', 'youngHigh']);
    // Before saturation (ageSaturationSeconds 3600), priority decides.
    const late = compileSchedulerConfig({ ageSaturationSeconds: 6000, holdSwitchMargin: 0 });
    expect(ranks(runCycle(snap([n], [youngHigh, oldLow]), NOW, late))).toEqual(['youngHigh', 'oldLow']);
  });

  it('a saturated request ranks ahead of any unsaturated one', () => {
    const oldLow = req('oldLow', { cpu: 1 }, { priority: 1, readySince: ago(3600) });
    const nearly = req('nearly', { cpu: 1 }, { priority: 10, importance: 1e6, readySince: ago(3599) });
    expect(ranks(runCycle(snap([n], [nearly, oldLow]), NOW, config))).toEqual(['oldLow', 'nearly']);
  });

  it('only the oldest saturated request goes first (the head); the other saturated keep their score order', () => {
    // All saturated, same shape, no importance: after the head (the oldest), priority decides.
    const pendings = [
      req('p3', { cpu: 1 }, { priority: 3, readySince: ago(9000) }),
      req('p9', { cpu: 1 }, { priority: 9, readySince: ago(5000) }),
      req('p1', { cpu: 1 }, { priority: 1, readySince: ago(8000) }),
      req('p6', { cpu: 1 }, { priority: 6, readySince: ago(4000) }),
      req('fresh10', { cpu: 1 }, { priority: 10, readySince: ago(10) }),
    ];
    const out = runCycle(snap([node('n1', { cpu: 4 }, { granted: { cpu: 4 } })], pendings), NOW, config);
    // Scores after the head: p9 (0.89 + age 2) > p1 … no: p1 and p6 are saturated too (age factor 1), so
    // p9 (priority 0.89) > p6 (0.56) > p1 (0) among the saturated; fresh10 (priority 1, age ~0) scores
    // below every saturated one (their age contribution is 2).
    expect(ranks(out)).toEqual(['p3', 'p9', 'p6', 'p1', 'fresh10']);
  });

  it('the head is the oldest saturated request whatever its score, and it holds', () => {
    const wide = req('wide', { cpu: 4 }, { priority: 1, readySince: ago(7200) });
    const narrow = req('narrow', { cpu: 1 }, { priority: 10, readySince: ago(4000) });
    const busy = node('n1', { cpu: 4 }, { granted: { cpu: 4 } });
    const out = runCycle(snap([busy], [narrow, wide]), NOW, config);
    expect(ranks(out)).toEqual(['wide', 'narrow']);
    expect(out.holds.map((h) => h.key)).toEqual(['wide']);
  });

  it('no request starves when every waiting request is saturated (a long overload)', () => {
    // Saturation after 100 s, one start per 100 s step, two fresh priority-10 requests every step: all
    // saturate one step later, so score order alone (priority) would never start the priority-1 victim.
    const fast = compileSchedulerConfig({ ageSaturationSeconds: 100, holdSwitchMargin: 0 });
    const cpu = node('n1', { cpu: 2 }, { granted: { cpu: 2 } });
    let pendings: PendingRequest[] = [
      req('old', { cpu: 1 }, { priority: 5, readySince: new Date(0), sequence: -2 }),
      req('victim', { cpu: 2 }, { priority: 1, readySince: new Date(1), sequence: -1 }),
    ];
    let seq = 0;
    const startedAt = new Map<string, number>();
    for (let step = 1; step <= 50; step++) {
      const now = new Date(step * 100_000);
      pendings.push(
        req(`hi${step}a`, { cpu: 1 }, { priority: 10, readySince: now, sequence: seq++ }),
        req(`hi${step}b`, { cpu: 1 }, { priority: 10, readySince: now, sequence: seq++ }),
      );
      const top = ranks(runCycle(snap([cpu], pendings), now, fast))[0] as string;
      startedAt.set(top, step);
      pendings = pendings.filter((p) => p.key !== top);
    }
    // `old` is the head at step 1, `victim` at step 2: each started as soon as it was the oldest.
    expect(startedAt.get('old')).toBe(1);
    expect(startedAt.get('victim')).toBe(2);
    // Without the bound the victim never starts (score order: priority 10 first).
    const unbounded = compileSchedulerConfig({
      ageSaturationSeconds: 100,
      holdSwitchMargin: 0,
      enforceStarvationBound: false,
    });
    const out = runCycle(
      snap(
        [cpu],
        [
          req('victim', { cpu: 2 }, { priority: 1, readySince: new Date(0) }),
          req('h', { cpu: 1 }, { priority: 10, readySince: new Date(1000) }),
        ],
      ),
      new Date(200_000),
      unbounded,
    );
    expect(ranks(out)[0]).toBe('h');
  });

  it('strict priority (bound not enforced) keeps priority order after saturation', () => {
    const strict = compileSchedulerConfig({
      weights: { priority: 1, importance: 0, fit: 0, size: 0, age: 0.001 },
      enforceStarvationBound: false,
    });
    const oldLow = req('oldLow', { cpu: 1 }, { priority: 1, readySince: ago(50_000) });
    const youngHigh = req('youngHigh', { cpu: 1 }, { priority: 10, readySince: ago(4000) });
    expect(ranks(runCycle(snap([n], [oldLow, youngHigh]), NOW, strict))).toEqual(['youngHigh', 'oldLow']);
  });
});
