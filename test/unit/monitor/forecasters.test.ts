import { createForecaster, MODEL_NAMES, type ModelName } from '../../../src/monitor/forecast/models';
import { detectPeriod } from '../../../src/monitor/forecast/seasonal';
import { BandedForecaster } from '../../../src/monitor/forecast/banded';
import { EnsembleModel } from '../../../src/monitor/forecast/ensemble';
import { TheilSenModel } from '../../../src/monitor/forecast/theil-sen';
import type { PointModel } from '../../../src/monitor/forecast/types';
import { seededRandom } from '../../../src/simulator/seeded-random';

const T0 = 1_764_530_000_000;

function feed(model: ModelName, values: (i: number) => number, n: number, intervalMs = 1000) {
  const f = createForecaster(model, { intervalMs });
  for (let i = 0; i < n; i++) f.update(T0 + i * intervalMs, values(i));
  return f;
}

const periodic = (i: number): number =>
  [0.2, 0.5, 1.8, 1.9, 1.7, 0.4, 0.1, 0.1, 0.3, 0.2, 0.1, 0.2][i % 12] as number;

describe('forecasters', () => {
  it.each(MODEL_NAMES.map((m) => [m]))('%s predicts a constant exactly, with a zero-width band', (model) => {
    const f = feed(model, () => 3.25, 60);
    for (const h of [1, 5, 10]) {
      const fc = f.forecast(h);
      expect(fc?.value).toBeCloseTo(3.25, 9);
      expect(fc?.lower).toBeCloseTo(3.25, 9);
      expect(fc?.upper).toBeCloseTo(3.25, 9);
    }
  });

  it.each(MODEL_NAMES.map((m) => [m]))('%s returns null before the first sample', (model) => {
    expect(createForecaster(model).forecast(5)).toBeNull();
  });

  it.each([['linearTrend'], ['holt'], ['theilSen']] as const)(
    '%s predicts a perfect line exactly',
    (model) => {
      const line = (i: number): number => 2 + 0.5 * i;
      const n = 50;
      const f = feed(model, line, n);
      for (const h of [1, 5, 10]) expect(f.forecast(h)?.value).toBeCloseTo(line(n - 1 + h), 9);
    },
  );

  it('ensemble converges on a perfect line (its exact members dominate once early errors age out)', () => {
    const line = (i: number): number => 2 + 0.5 * i;
    const n = 150;
    const f = feed('ensemble', line, n);
    for (const h of [1, 5, 10]) expect(f.forecast(h)?.value).toBeCloseTo(line(n - 1 + h), 6);
  });

  it('lastValue and ewma lag a line (the baselines)', () => {
    const f = feed('lastValue', (i) => i, 30);
    expect(f.forecast(5)?.value).toBe(29);
    const e = feed('ewma', (i) => i, 30);
    expect(e.forecast(5)?.value).toBeLessThan(29);
  });

  it('seasonal predicts a clean periodic series exactly', () => {
    const n = 100;
    const f = feed('seasonal', periodic, n);
    for (let h = 1; h <= 10; h++) expect(f.forecast(h)?.value).toBeCloseTo(periodic(n - 1 + h), 9);
  });

  it('ensemble follows the seasonal model on a periodic series', () => {
    const n = 120;
    const f = feed('ensemble', periodic, n);
    const last = feed('lastValue', periodic, n);
    let errEnsemble = 0;
    let errLast = 0;
    for (let h = 1; h <= 10; h++) {
      errEnsemble += Math.abs((f.forecast(h)?.value ?? NaN) - periodic(n - 1 + h));
      errLast += Math.abs((last.forecast(h)?.value ?? NaN) - periodic(n - 1 + h));
    }
    expect(errEnsemble).toBeLessThan(0.2 * errLast);
  });

  it.each(MODEL_NAMES.map((m) => [m]))('%s: bands widen with noise', (model) => {
    const width = (sigma: number): number => {
      const r = seededRandom(42);
      const f = feed(model, (i) => 5 + 0.01 * i + sigma * (r() - 0.5), 120);
      const fc = f.forecast(5);
      if (fc === null) throw new Error('no forecast');
      expect(fc.lower).toBeLessThanOrEqual(fc.value);
      expect(fc.upper).toBeGreaterThanOrEqual(fc.value);
      return fc.upper - fc.lower;
    };
    const quiet = width(0.1);
    const noisy = width(2);
    expect(noisy).toBeGreaterThan(5 * quiet);
  });

  it('band width grows with the horizon on a random walk', () => {
    const r = seededRandom(7);
    let x = 10;
    const f = createForecaster('lastValue');
    for (let i = 0; i < 120; i++) {
      x += r() - 0.5;
      f.update(T0 + i * 1000, x);
    }
    const w = (h: number): number => {
      const fc = f.forecast(h);
      return fc === null ? NaN : fc.upper - fc.lower;
    };
    expect(w(10)).toBeGreaterThan(w(1));
  });

  it('clamps to >= 0 and <= capacity', () => {
    const down = createForecaster('linearTrend');
    for (let i = 0; i < 20; i++) down.update(T0 + i * 1000, 10 - i * 0.5);
    expect(down.forecast(10)?.value).toBe(0);
    const up = createForecaster('linearTrend', { capacity: 2 });
    for (let i = 0; i < 20; i++) up.update(T0 + i * 1000, i * 0.1);
    expect(up.forecast(10)?.value).toBe(2);
    expect(up.forecast(10)?.upper).toBe(2);
  });

  it('converts seconds to steps at the observed interval', () => {
    const f = feed('linearTrend', (i) => i, 40, 500);
    expect(f.stepsFor(5)).toBe(10);
    expect(f.forecast(5)?.value).toBeCloseTo(39 + 10, 6);
  });

  it('ignores out-of-order and non-finite samples', () => {
    const f = createForecaster('lastValue');
    f.update(T0, 1);
    f.update(T0 - 1000, 5);
    f.update(T0 + 1000, Number.NaN);
    expect(f.forecast(1)?.value).toBe(1);
  });

  it.each([
    ['holt', { windowSize: 2 }],
    ['holt', { coverage: 1 }],
    ['holt', { capacity: 0 }],
    ['nope', {}],
  ] as const)('rejects bad options: %s %p', (model, options) => {
    expect(() => createForecaster(model, options)).toThrow(
      expect.objectContaining({ name: 'InvalidMonitorOptionError' }),
    );
  });
});

describe('robust combination', () => {
  const spiky = (i: number): number => (i % 17 === 16 ? 50 : 1);

  it('median ignores a one-sample spike that lastValue carries forward', () => {
    const n = 17 * 4; // the newest sample is a spike
    expect(feed('lastValue', spiky, n).forecast(5)?.value).toBe(50);
    expect(feed('median', spiky, n).forecast(5)?.value).toBe(1);
  });

  it.each([['median'], ['mean'], ['best']] as const)('ensemble (%s) on a constant is exact', (combine) => {
    const members = (['lastValue', 'ewma', 'holt'] as const).map((m) => createForecaster(m));
    const f = new BandedForecaster(new EnsembleModel(members, { combine }));
    for (let i = 0; i < 30; i++) f.update(T0 + i * 1000, 2);
    expect(f.forecast(5)?.value).toBeCloseTo(2, 9);
  });

  it('weighted-median ensemble is not dragged by the members that carry a spike', () => {
    const n = 17 * 6;
    const median = feed('ensemble', spiky, n).forecast(5)?.value ?? NaN;
    const members = (['ewma', 'median', 'linearTrend', 'holt', 'seasonal', 'lastValue'] as const).map((m) =>
      createForecaster(m),
    );
    const mean = new BandedForecaster(new EnsembleModel(members, { combine: 'mean' }));
    for (let i = 0; i < n; i++) mean.update(T0 + i * 1000, spiky(i));
    expect(Math.abs(median - spiky(n - 1 + 5))).toBeLessThan(0.5);
    expect(Math.abs(median - 1)).toBeLessThanOrEqual(Math.abs((mean.forecast(5)?.value ?? NaN) - 1));
  });
});

describe('theilSen', () => {
  it('keeps the slope of a line through a one-sample spike that tilts the least-squares line', () => {
    const line = (i: number): number => 1 + 0.1 * i;
    const spiked = (i: number): number => (i === 40 ? 50 : line(i));
    const n = 50;
    const ts = feed('theilSen', spiked, n).forecast(5)?.value ?? NaN;
    const lt = feed('linearTrend', spiked, n).forecast(5)?.value ?? NaN;
    expect(ts).toBeCloseTo(line(n - 1 + 5), 9);
    expect(Math.abs(lt - line(n - 1 + 5))).toBeGreaterThan(1);
  });

  it('continues from the newest sample after a level shift', () => {
    const shifted = (i: number): number => (i < 40 ? 1 : 3);
    const f = feed('theilSen', shifted, 45); // 5 of 30 points after the shift: most pairs see no slope
    expect(f.forecast(5)?.value).toBeCloseTo(3, 9);
  });

  it('rejects fewer than 3 fit points', () => {
    expect(() => new TheilSenModel({ fitPoints: 2 })).toThrow(
      expect.objectContaining({ name: 'InvalidMonitorOptionError' }),
    );
  });
});

/** A member that predicts the newest value plus `bias(update index)`. */
class Biased implements PointModel {
  readonly name = 'biased';
  private n = 0;
  private last: number | null = null;
  constructor(private readonly bias: (n: number) => number) {}
  update(value: number): void {
    this.last = value;
    this.n++;
  }
  predict(): number | null {
    return this.last === null ? null : this.last + this.bias(this.n);
  }
}

describe('ensemble selection (best, discounted error, hysteresis)', () => {
  // On a constant series member 0 is always off by 1.0; member 1 by 1.05 until update 60, then 0.98.
  const run = (margin: number): EnsembleModel => {
    const members = [new Biased(() => 1), new Biased((n) => (n < 60 ? 1.05 : 0.98))].map(
      (m) => new BandedForecaster(m),
    );
    const e = new EnsembleModel(members, { combine: 'best', halfLife: 10, margin });
    const f = new BandedForecaster(e);
    for (let i = 0; i < 200; i++) f.update(T0 + i * 1000, 0);
    return e;
  };

  it('without a margin it moves to the member whose discounted error became lowest', () => {
    expect(run(0).chosenMember(5)).toBe(1);
  });

  it('with a margin it keeps the incumbent unless a member is better by that share', () => {
    expect(run(0.1).chosenMember(5)).toBe(0); // 0.98 is not below 1.0 × 0.9
  });

  it('has no choice before every member has errors (cold start trusts the last member)', () => {
    const members = [new Biased(() => 1), new Biased(() => 0)].map((m) => new BandedForecaster(m));
    const e = new EnsembleModel(members, { combine: 'best', halfLife: 10 });
    const f = new BandedForecaster(e);
    f.update(T0, 2);
    expect(e.chosenMember(1)).toBeNull();
    expect(f.forecast(1)?.value).toBe(2);
  });

  it.each([
    [{ halfLife: 0 }, 'halfLife'],
    [{ margin: 1 }, 'margin'],
    [{ margin: -0.1 }, 'margin'],
  ])('rejects %p', (options, field) => {
    expect(() => new EnsembleModel([createForecaster('lastValue')], options)).toThrow(
      expect.objectContaining({ name: 'InvalidMonitorOptionError', option: field }),
    );
  });
});

describe('detectPeriod', () => {
  it('finds the period of a repeating pattern', () => {
    expect(detectPeriod(Array.from({ length: 120 }, (_, i) => periodic(i)))).toBe(12);
    const square = Array.from({ length: 120 }, (_, i) => (i % 20 < 8 ? 1.9 : 0.1));
    expect(detectPeriod(square)).toBe(20);
  });

  it('finds none in a constant, a line or white noise', () => {
    expect(detectPeriod(new Array<number>(120).fill(1))).toBeNull();
    const r = seededRandom(3);
    expect(detectPeriod(Array.from({ length: 120 }, () => r()))).toBeNull();
    expect(detectPeriod(Array.from({ length: 10 }, (_, i) => i))).toBeNull();
  });
});
