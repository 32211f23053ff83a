import { MAX_SHARD_RESULT_BYTES, MAX_SHARD_RESULTS_TOTAL_BYTES } from '../../../src/definition/limits';
import { jsonByteLength, shardResultProblem, shardResultsProblem } from '../../../src/sharding/result-size';
import { shardArgsIssues } from '../../../src/sharding/shard-args';

test.each([null, 1, 'héllo ✓ 🚀', { a: [1, 'ü'] }, []])('jsonByteLength(%j) is the UTF-8 length', (value) => {
  expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value), 'utf8'));
});

test('a shard result over 64 KiB is a problem that says to return a reference', () => {
  expect(shardResultProblem('s', 0, 'x'.repeat(MAX_SHARD_RESULT_BYTES - 2))).toBeUndefined();
  const problem = shardResultProblem('s', 3, 'x'.repeat(MAX_SHARD_RESULT_BYTES));
  expect(problem).toContain('shard 3 of "s"');
  expect(problem).toContain('return a reference');
});

test('results over 1.5 MiB together are a problem', () => {
  const each = 'x'.repeat(60_000);
  const n = Math.ceil(MAX_SHARD_RESULTS_TOTAL_BYTES / 60_000);
  expect(shardResultsProblem('s', Array(n - 1).fill(each))).toBeUndefined();
  expect(shardResultsProblem('s', Array(n + 1).fill(each))).toContain('URIs');
});

describe('shardArgsIssues', () => {
  const good = {
    stage: { id: 'a', handler: 'qm.echo', priority: 5, dependsOn: ['x'], input: { n: 1 } },
    shard: { index: 0, count: 2 },
    input: { n: 1 },
    deps: {},
    pipelineInput: null,
    importance: 3,
    parentWorkflowId: 'p',
  };
  it('accepts what the parent builds', () => expect(shardArgsIssues(good)).toEqual([]));
  it.each<[string, unknown, string]>([
    ['null', null, ''],
    ['count 1e9', { ...good, shard: { index: 0, count: 1e9 } }, 'shard'],
    ['index out of range', { ...good, shard: { index: 2, count: 2 } }, 'shard'],
    [
      'a shard spec',
      { ...good, stage: { ...good.stage, shard: { by: 'count', count: 2, reassemble: 'r' } } },
      'stage.shard',
    ],
    ['a bad timeout', { ...good, stage: { ...good.stage, timeoutSeconds: 1e-9 } }, 'stage.timeoutSeconds'],
    ['importance "high"', { ...good, importance: 'high' }, 'importance'],
    ['an unknown key', { ...good, extra: 1 }, 'extra'],
  ])('rejects %s', (_what, raw, pathText) => {
    expect(shardArgsIssues(raw).map((i) => i.pathText)).toContain(pathText);
  });
});
