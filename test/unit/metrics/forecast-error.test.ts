import { ForecastErrorTracker } from '../../../src/metrics/forecast-error';

function snap(at: number, cpu: number, forecastCpu: number) {
  const f = { value: forecastCpu, lower: forecastCpu - 1, upper: forecastCpu + 1 };
  return { at, usage: { cpu, memoryMb: null }, forecast: { '2': { cpu: f } } } as never;
}

test('a forecast is scored against the sample that lands on its time; the mean goes to the sink', () => {
  const seen: Array<[string, number, number]> = [];
  const t = new ForecastErrorTracker((r, h, e) => seen.push([r, h, e]));
  t.observe(snap(0, 1, 3)); // predicts cpu 3 at t = 2000
  t.observe(snap(1000, 1, 5)); // predicts 5 at 3000
  expect(seen).toEqual([]);
  t.observe(snap(2000, 2, 0)); // actual 2 vs 3 → 1
  t.observe(snap(3000, 2, 0)); // actual 2 vs 5 → 3; mean 2
  expect(seen).toEqual([
    ['cpu', 2, 1],
    ['cpu', 2, 2],
  ]);
});

test('a forecast whose time passed without a sample is dropped; the window is bounded', () => {
  const seen: number[] = [];
  const t = new ForecastErrorTracker((_r, _h, e) => seen.push(e), { window: 2 });
  t.observe(snap(0, 0, 10)); // for 2000: never sampled (next sample at 5000)
  t.observe(snap(5000, 0, 4)); // for 7000
  t.observe(snap(6000, 0, 2)); // for 8000
  t.observe(snap(7000, 0, 0)); // |0 − 4| = 4
  t.observe(snap(8000, 0, 0)); // |0 − 2| = 2 → mean 3
  t.observe(snap(9000, 1, 0)); // |1 − 0| = 1 → window [2, 1] → 1.5
  expect(seen).toEqual([4, 3, 1.5]);
});
