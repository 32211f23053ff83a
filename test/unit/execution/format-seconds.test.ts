import { formatSeconds } from '../../../src/execution/duration';

test.each<[number | null | undefined, string]>([
  [null, '-'],
  [undefined, '-'],
  [Number.NaN, '-'],
  [0.25, '250ms'],
  [0, '0ms'],
  [42, '42s'],
  [130, '2m10s'],
  [3900, '1h05m'],
  [273_600, '3d4h'],
  [-12, '-12s'],
])('formatSeconds(%p) = %j', (seconds, text) => {
  expect(formatSeconds(seconds)).toBe(text);
});
