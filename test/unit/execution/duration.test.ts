import { formatSeconds, MAX_DURATION_MS, parseDuration } from '../../../src/execution/duration';

test.each<[string, number]>([
  ['30s', 30_000],
  ['15m', 900_000],
  ['1h', 3_600_000],
  ['2d', 172_800_000],
  ['1.5h', 5_400_000],
  [' 10m ', 600_000],
  ['3650d', MAX_DURATION_MS],
])('parseDuration(%j) = %d ms', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});

test.each(['', '90', '1w', '-1h', '1 hour', 'h', '0s', '0.0001s', '3651d', 'abc', '1h30m'])(
  'parseDuration(%j) throws a typed InvalidDurationError naming the option and the text',
  (text) => {
    let caught: unknown;
    try {
      parseDuration(text, '--since');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'InvalidDurationError', option: '--since', text, retryable: false });
    expect((caught as Error).message).toContain('30s, 15m, 1h or 2d');
  },
);

test('parseDuration of a non-string (from untyped callers) is a typed error too', () => {
  expect(() => parseDuration(undefined as unknown as string)).toThrow(
    expect.objectContaining({ name: 'InvalidDurationError' }),
  );
});

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
