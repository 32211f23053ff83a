import { PRIORITY_BANDS, priorityBand } from '../../../src/metrics/priority-band';

test.each([
  [1, 'low'],
  [3, 'low'],
  [4, 'normal'],
  [7, 'normal'],
  [8, 'high'],
  [10, 'high'],
  [Number.NaN, 'normal'],
  [Number.POSITIVE_INFINITY, 'normal'],
])('priority %p is band %p', (priority, band) => {
  expect(priorityBand(priority)).toBe(band);
});

test('every priority 1–10 maps into the three bands, in order', () => {
  const bands = Array.from({ length: 10 }, (_, i) => priorityBand(i + 1));
  expect(new Set(bands)).toEqual(new Set(PRIORITY_BANDS));
  expect(bands.map((b) => PRIORITY_BANDS.indexOf(b))).toEqual(
    [...bands.map((b) => PRIORITY_BANDS.indexOf(b))].sort(),
  );
});
