import { formatEstimatedStart } from '../../../src/cli/commands/scheduling';

const now = new Date('2026-11-30T12:00:00Z');
const inS = (s: number): string => new Date(now.getTime() + s * 1000).toISOString();

test.each<[string, 'grant' | 'shard' | 'wait', string | null | undefined, string]>([
  ['a grant row', 'grant', undefined, ''],
  ['a shard row', 'shard', undefined, ''],
  ['a wait without an estimate', 'wait', null, 'unknown'],
  ['a wait from an older scheduler (field absent)', 'wait', undefined, 'unknown'],
  ['an estimate already reached', 'wait', inS(-4), 'now'],
  ['seconds', 'wait', inS(7), 'in 7s'],
  ['minutes and seconds', 'wait', inS(130), 'in 2m10s'],
  ['hours and minutes', 'wait', inS(3 * 3600 + 5 * 60 + 9), 'in 3h05m'],
  ['days and hours', 'wait', inS(2 * 86_400 + 3 * 3600), 'in 2d3h'],
])('%s', (_what, decision, estimatedStartAt, expected) => {
  expect(formatEstimatedStart({ decision, estimatedStartAt }, now)).toBe(expected);
});
