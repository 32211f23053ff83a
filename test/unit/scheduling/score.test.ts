import {
  compileSchedulerConfig,
  computeScore,
  DEFAULT_SCHEDULER_CONFIG,
  runCycle,
  scoreRequests,
  starvationBoundSeconds,
  type ScoreInputs,
} from '../../../src/scheduling';
import { HOST_RESOURCES } from '../../../src/ledger/types';
import { HOST_RESOURCE_NAMES } from '../../../src/scheduling/types';
import { NOW, ago, node, req, snap } from './fixtures';

const base: ScoreInputs = { priority: 5, importance: 0, waitSeconds: 0, fitFraction: 1, sizeShare: 0.2 };

describe('computeScore', () => {
  it('breakdown sums to the score and every contribution is within its weight', () => {
    const r = computeScore({ ...base, importance: 3, waitSeconds: 100 });
    const b = r.breakdown;
    expect(b.priority + b.importance + b.fit + b.age + b.size).toBeCloseTo(r.score, 12);
    const w = DEFAULT_SCHEDULER_CONFIG.weights;
    for (const k of ['priority', 'importance', 'fit', 'age', 'size'] as const) {
      expect(b[k]).toBeGreaterThanOrEqual(0);
      expect(b[k]).toBeLessThanOrEqual(w[k]);
    }
  });

  it('is strictly monotonic in priority', () => {
    const scores = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(
      (priority) => computeScore({ ...base, priority }).score,
    );
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1] as number);
  });

  it('is strictly monotonic and saturating in importance', () => {
    const imps = [0, 0.5, 1, 3, 10, 100, 1e6];
    const scores = imps.map((importance) => computeScore({ ...base, importance }).breakdown.importance);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1] as number);
    expect(scores[scores.length - 1]).toBeLessThan(DEFAULT_SCHEDULER_CONFIG.weights.importance);
  });

  it.each([
    ['age grows then saturates', { waitSeconds: 300 }, { waitSeconds: 600 }, { waitSeconds: 6000 }],
    ['better fit scores higher', { fitFraction: 0.2 }, { fitFraction: 0.6 }, { fitFraction: 1 }],
    ['smaller scores higher', { sizeShare: 1 }, { sizeShare: 0.5 }, { sizeShare: 0 }],
  ])('%s', (_name, a, b, c) => {
    const [sa, sb, sc] = [a, b, c].map((x) => computeScore({ ...base, ...x }).score) as [
      number,
      number,
      number,
    ];
    expect(sa).toBeLessThan(sb);
    expect(sb).toBeLessThanOrEqual(sc);
  });

  it('rejects bad priority and importance by name', () => {
    expect(() => computeScore({ ...base, priority: 11 })).toThrow(
      expect.objectContaining({ name: 'InvalidSnapshotError' }),
    );
    expect(() => computeScore({ ...base, importance: -1 })).toThrow(
      expect.objectContaining({ name: 'InvalidSnapshotError' }),
    );
  });
});

describe('starvation bound', () => {
  it('is 27360 s with the defaults (3420 s at ageSaturationSeconds 3600, 570 s at 600)', () => {
    expect(DEFAULT_SCHEDULER_CONFIG.ageSaturationSeconds).toBe(28800);
    expect(DEFAULT_SCHEDULER_CONFIG.starvationBoundSeconds).toBeCloseTo(27360, 9);
    expect(starvationBoundSeconds(DEFAULT_SCHEDULER_CONFIG.weights, 3600)).toBeCloseTo(3420, 9);
    expect(starvationBoundSeconds(DEFAULT_SCHEDULER_CONFIG.weights, 600)).toBeCloseTo(570, 9);
  });

  it.each([
    ['defaults', {}],
    ['heavy priority', { weights: { priority: 3, age: 5 }, ageSaturationSeconds: 120 }],
    ['no size, heavy fit', { weights: { size: 0, fit: 1, age: 3 }, ageSaturationSeconds: 3600 }],
  ])(
    '%s: a priority-1 stage waiting just past the bound beats any fresh priority-10 stage',
    (_n, options) => {
      const config = compileSchedulerConfig(options);
      const t = config.starvationBoundSeconds * (1 + 1e-9) + 1e-6;
      const starved = computeScore(
        { priority: 1, importance: 0, waitSeconds: t, fitFraction: 0, sizeShare: 1 },
        config,
      );
      const fresh = computeScore(
        { priority: 10, importance: Number.MAX_VALUE, waitSeconds: 0, fitFraction: 1, sizeShare: 0 },
        config,
      );
      expect(starved.score).toBeGreaterThan(fresh.score);
      // …and just before the bound, the best fresh stage can still win.
      const early = computeScore(
        {
          priority: 1,
          importance: 0,
          waitSeconds: config.starvationBoundSeconds * 0.99,
          fitFraction: 0,
          sizeShare: 1,
        },
        config,
      );
      expect(early.score).toBeLessThan(fresh.score);
    },
  );

  it('ranks the starved stage first in a real cycle', () => {
    const t = DEFAULT_SCHEDULER_CONFIG.starvationBoundSeconds + 1;
    const s = snap(
      [node('n1', { cpu: 4 })],
      [
        req('fresh-p10', { cpu: 1 }, { priority: 10, importance: 1e9, readySince: NOW }),
        req('old-p1', { cpu: 4 }, { priority: 1, readySince: ago(t) }),
      ],
    );
    const out = runCycle(s, NOW);
    expect(out.queue.map((e) => e.key)).toEqual(['old-p1', 'fresh-p10']);
    expect(out.decisions[0]).toMatchObject({ kind: 'grant', key: 'old-p1' });
    expect(out.decisions[1]).toMatchObject({ kind: 'wait', key: 'fresh-p10' });
  });

  it('config refuses an age weight that allows starvation, naming the field', () => {
    expect(() => compileSchedulerConfig({ weights: { age: 1 } })).toThrow(
      expect.objectContaining({ name: 'InvalidSchedulerOptionError', field: 'weights.age', value: 1 }),
    );
    expect(
      compileSchedulerConfig({ weights: { age: 1 }, enforceStarvationBound: false }).starvationBoundSeconds,
    ).toBe(Infinity);
  });
});

describe('compileSchedulerConfig', () => {
  it.each([
    [{ weights: { priority: -1 } }, 'weights.priority', -1],
    [{ weights: { fit: Number.NaN } }, 'weights.fit', Number.NaN],
    [{ weights: { bogus: 1 } as never }, 'weights.bogus', 1],
    [{ ageSaturationSeconds: 0 }, 'ageSaturationSeconds', 0],
    [{ importanceHalfSaturation: -2 }, 'importanceHalfSaturation', -2],
    [{ forecastSafetyMargin: -0.1 }, 'forecastSafetyMargin', -0.1],
    [{ maxHolds: 1.5 }, 'maxHolds', 1.5],
  ])('%j → %s', (options, field, value) => {
    expect(() => compileSchedulerConfig(options)).toThrow(
      expect.objectContaining({ name: 'InvalidSchedulerOptionError', field, value }),
    );
  });

  it('fills defaults and freezes', () => {
    const c = compileSchedulerConfig({ weights: { importance: 0.3 } });
    expect(c.weights).toEqual({ priority: 1, importance: 0.3, fit: 0.2, age: 2, size: 0.1 });
    expect(c.maxHolds).toBe(1);
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe('scoreRequests', () => {
  it('fit uses the forecast upper band, not only grants', () => {
    const config = compileSchedulerConfig({ forecastSafetyMargin: 0 });
    const quiet = node('quiet', { cpu: 8 });
    const busy = node('busy', { cpu: 8 }, { forecastUsage: { cpu: { value: 5, upper: 6 } } });
    const s1 = scoreRequests(snap([quiet], [req('a', { cpu: 4 })]), NOW, config);
    const s2 = scoreRequests(snap([busy], [req('a', { cpu: 4 })]), NOW, config);
    expect(s1.get('a')?.breakdown.fit).toBeCloseTo(0.2, 12); // 4 of 4 covered
    expect(s2.get('a')?.breakdown.fit).toBeCloseTo(0.2 * (2 / 4), 12); // 8 − 6 = 2 of 4
  });
});

it('host resource names match the ledger', () => {
  expect([...HOST_RESOURCE_NAMES]).toEqual([...HOST_RESOURCES]);
});
