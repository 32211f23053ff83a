import { describeValue, didYouMean, editDistance, formatPath } from '../../../src/definition/issues';

describe('formatPath', () => {
  it.each<[Array<string | number>, string]>([
    [[], ''],
    [['name'], 'name'],
    [['stages', 1, 'resources', 'minimum', 'cpu'], 'stages[1].resources.minimum.cpu'],
    [
      ['stages', 0, 'resources', 'desired', 'db-connections'],
      'stages[0].resources.desired["db-connections"]',
    ],
    [['stages', 2, 'input', 'a b', 0], 'stages[2].input["a b"][0]'],
  ])('%j → %s', (path, text) => expect(formatPath(path)).toBe(text));
});

describe('didYouMean', () => {
  const known = ['id', 'handler', 'priority', 'dependsOn', 'timeoutSeconds', 'deadlineSeconds'];
  it.each<[string, string | undefined]>([
    ['dependson', 'dependsOn'],
    ['hander', 'handler'],
    ['prioirty', 'priority'],
    ['timeout', 'timeoutSeconds'],
    ['deadline', 'deadlineSeconds'],
    ['ID', 'id'],
    ['zzzz', undefined],
    ['x', undefined],
  ])('%s → %s', (word, hint) => expect(didYouMean(word, known)).toBe(hint));
});

describe('editDistance', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['same', 'same', 0],
  ])('%s ↔ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    ['x', '"x"'],
    [11, '11'],
    [Infinity, 'Infinity'],
    [null, 'null'],
    [[1, 2], '[1,2]'],
    [Array.from({ length: 100 }, () => 1), 'an array of 100 items'],
    [() => 1, 'a function'],
  ])('%p → %s', (value, text) => expect(describeValue(value)).toBe(text));
});
