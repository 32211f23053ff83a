import {
  LEARNED_MIN_SAMPLES,
  LEARNED_QUANTILE,
  LEARNED_WINDOW,
  learnedSeconds,
  normalisedSeconds,
  quantile,
  type CompletedRun,
} from '../../../src/execution/learned';

const run = (runSeconds: number, cpu = 4, desiredCpu = 4): CompletedRun => ({
  runSeconds,
  granted: { cpu },
  desired: { cpu: desiredCpu },
});

test('the defaults: p90 of the last 50 runs, from 3 runs on', () => {
  expect([LEARNED_QUANTILE, LEARNED_WINDOW, LEARNED_MIN_SAMPLES]).toEqual([0.9, 50, 3]);
});

// percentile_cont: position q·(n−1) in the sorted values, linear in between.
test.each<[number[], number, number]>([
  [[10], 0.9, 10],
  [[10, 20], 0.5, 15],
  [[30, 10, 20], 0.9, 28],
  [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1],
  [[5, 1, 3], 0, 1],
  [[5, 1, 3], 1, 5],
])('quantile(%j, %d) = %d', (values, q, expected) => {
  expect(quantile(values, q)).toBeCloseTo(expected, 12);
});

test('quantile of nothing is NaN; a bad q or value is a typed error', () => {
  expect(quantile([], 0.5)).toBeNaN();
  expect(() => quantile([1], 1.5)).toThrow(
    expect.objectContaining({ name: 'InvalidSampleError', path: 'q' }),
  );
  expect(() => quantile([1, Number.POSITIVE_INFINITY], 0.5)).toThrow(
    expect.objectContaining({ name: 'InvalidSampleError', path: 'values[1]' }),
  );
});

test.each<[string, CompletedRun, number]>([
  ['full CPU: as measured', run(100), 100],
  ['half the CPU: half as long at desired', run(100, 2), 50],
  ['a tiny grant is clamped at 1 % (as cpuRate does)', run(100, 0), 1],
  ['no CPU asked: as measured', { runSeconds: 7, granted: { memoryMb: 1 }, desired: { memoryMb: 1 } }, 7],
  ['more CPU than desired never counts as faster', run(100, 8), 100],
])('normalisedSeconds: %s', (_what, r, expected) => {
  expect(normalisedSeconds(r)).toBeCloseTo(expected, 12);
});

test('normalisedSeconds refuses a negative or non-finite run time', () => {
  expect(() => normalisedSeconds(run(-1), 'runs[2]')).toThrow(
    expect.objectContaining({ name: 'InvalidSampleError', path: 'runs[2].runSeconds' }),
  );
});

test('learnedSeconds: null below the minimum, the quantile of the newest window above it', () => {
  expect(learnedSeconds([run(10), run(40, 2)])).toBeNull();
  expect(learnedSeconds([run(30), run(40, 2), run(10)])).toEqual({ seconds: 28, samples: 3 });
  expect(learnedSeconds([run(10)], 1)).toEqual({ seconds: 10, samples: 1 });
  // Newest first: the 5 oldest (slow) runs fall out of the window of 50.
  const runs = [...Array.from({ length: 50 }, () => run(1)), ...Array.from({ length: 5 }, () => run(900))];
  expect(learnedSeconds(runs)).toEqual({ seconds: 1, samples: 50 });
  expect(() => learnedSeconds([], 0)).toThrow(expect.objectContaining({ name: 'InvalidSampleError' }));
});
