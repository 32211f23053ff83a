import { checkGraph, findCycle, topologicalOrder } from '../../../src/definition/graph';
import { type GraphStage } from '../../../src/definition/graph';

const g = (...stages: Array<[string, string[]?]>): { stages: GraphStage[] } => ({
  stages: stages.map(([id, dependsOn]) => (dependsOn ? { id, dependsOn } : { id })),
});

describe('topologicalOrder', () => {
  const cases: Array<[string, { stages: GraphStage[] }, string[]]> = [
    ['keeps an already ordered pipeline', g(['a'], ['b', ['a']], ['c', ['b']]), ['a', 'b', 'c']],
    ['keeps independent stages in declaration order', g(['z'], ['y'], ['x']), ['z', 'y', 'x']],
    [
      'moves a stage after a dependency declared later',
      g(['report', ['load']], ['load']),
      ['load', 'report'],
    ],
    ['orders a diamond', g(['d', ['b', 'c']], ['c', ['a']], ['b', ['a']], ['a']), ['a', 'c', 'b', 'd']],
    [
      'takes the earliest-declared ready stage first',
      g(['late', ['x']], ['early'], ['x'], ['y', ['early']]),
      ['early', 'x', 'late', 'y'],
    ],
    ['handles a single stage', g(['only']), ['only']],
  ];
  it.each(cases)('%s', (_what, graph, order) => expect(topologicalOrder(graph)).toEqual(order));

  it('puts every dependency before its dependents in a large random DAG', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const stages: GraphStage[] = Array.from({ length: 300 }, (_, i) => ({
      id: `s${i}`,
      dependsOn: [] as string[],
    }));
    // edges only from higher to lower index, then shuffle declaration order: acyclic by construction
    stages.forEach((stage, i) => {
      for (let k = 0; k < 3 && i > 0; k++) {
        const dep = `s${Math.floor(random() * i)}`;
        if (!stage.dependsOn?.includes(dep)) stage.dependsOn?.push(dep);
      }
    });
    const shuffled = [...stages].sort(() => random() - 0.5);
    const order = topologicalOrder({ stages: shuffled });
    const position = new Map(order.map((id, i) => [id, i]));
    expect(order).toHaveLength(300);
    for (const stage of stages)
      for (const dep of stage.dependsOn ?? [])
        expect(position.get(dep)).toBeLessThan(position.get(stage.id) ?? -1);
  });

  it('throws InvalidDefinitionError on a cycle', () => {
    expect(() => topologicalOrder(g(['a', ['b']], ['b', ['a']]))).toThrow(
      expect.objectContaining({
        name: 'InvalidDefinitionError',
        issues: [expect.objectContaining({ code: 'dependency_cycle', pathText: 'stages[0].dependsOn' })],
      }),
    );
  });

  it('throws InvalidDefinitionError on an unknown dependency', () => {
    expect(() => topologicalOrder(g(['a', ['ghost']]))).toThrow(
      expect.objectContaining({
        name: 'InvalidDefinitionError',
        message: expect.stringContaining('"ghost"'),
      }),
    );
  });
});

describe('findCycle', () => {
  const cases: Array<[string, { stages: GraphStage[] }, string[] | undefined]> = [
    ['none in a DAG', g(['a'], ['b', ['a']], ['c', ['a', 'b']]), undefined],
    ['a three-stage loop', g(['a', ['b']], ['b', ['c']], ['c', ['a']]), ['a', 'b', 'c', 'a']],
    [
      'starts at the earliest-declared stage',
      g(['x'], ['c', ['a']], ['a', ['b']], ['b', ['c']]),
      ['c', 'a', 'b', 'c'],
    ],
    [
      'the shortest loop through that stage',
      g(['a', ['b', 'c']], ['b', ['c']], ['c', ['a']]),
      ['a', 'c', 'a'],
    ],
    ['a self dependency', g(['a'], ['b', ['b']]), ['b', 'b']],
    ['ignores unknown dependencies', g(['a', ['nope']]), undefined],
  ];
  it.each(cases)('%s', (_what, graph, cycle) => expect(findCycle(graph)).toEqual(cycle));
});

describe('checkGraph', () => {
  it('tolerates malformed input', () => {
    expect(checkGraph('nope')).toEqual([]);
    expect(
      checkGraph([5, null, { id: 3 }, { id: 'a', dependsOn: 'b' }, { id: 'b', dependsOn: [1, 'a'] }]),
    ).toEqual([]);
  });

  it('uses the base path given', () => {
    const [issue] = checkGraph([{ id: 'a', dependsOn: ['a'] }], ['pipeline', 'stages']);
    expect(issue?.pathText).toBe('pipeline.stages[0].dependsOn[0]');
  });

  it('treats prototype names as ordinary ids', () => {
    expect(checkGraph([{ id: 'toString' }, { id: 'b', dependsOn: ['constructor', 'toString'] }])).toEqual([
      expect.objectContaining({
        code: 'unknown_dependency',
        pathText: 'stages[1].dependsOn[0]',
        value: 'constructor',
      }),
    ]);
  });
});
