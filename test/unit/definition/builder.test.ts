import { pipeline } from '../../../src/definition/builder';
import { InvalidDefinitionError } from '../../../src/definition/errors';
import { validateDefinition } from '../../../src/definition/validate';
import { example } from './fixtures';

describe('pipeline builder', () => {
  it('builds the example, normalised', () => {
    const built = pipeline('nightly-etl', { importance: 0 })
      .stage({
        id: 'extract',
        handler: 'qm.sleep',
        priority: 7,
        input: { ms: 200 },
        resources: { desired: { cpu: 2, memoryMb: 1024 }, minimum: { cpu: 1, memoryMb: 512 } },
      })
      .stage({
        id: 'total',
        handler: 'qm.sum',
        priority: 9,
        dependsOn: ['extract'],
        input: { numbers: [1, 2, 3] },
        shard: { by: 'items', field: 'numbers', maxShards: 8, reassemble: 'qm.sum' },
        retry: { maximumAttempts: 3 },
        timeoutSeconds: 60,
      })
      .build();
    const expected = validateDefinition(example());
    expect(expected.ok && expected.definition).toEqual(built);
  });

  it('passes description and importance through', () => {
    const built = pipeline('p', { description: 'nightly', importance: 3 })
      .stage({ id: 'a', handler: 'h', priority: 1 })
      .build();
    expect(built).toMatchObject({ name: 'p', description: 'nightly', importance: 3 });
  });

  it('is immutable: branches do not see each other', () => {
    const base = pipeline('p').stage({ id: 'a', handler: 'h', priority: 1 });
    const left = base.stage({ id: 'b', handler: 'h', priority: 2, dependsOn: ['a'] });
    const right = base.stage({ id: 'c', handler: 'h', priority: 3 });
    expect(base.build().stages.map((s) => s.id)).toEqual(['a']);
    expect(left.build().stages.map((s) => s.id)).toEqual(['a', 'b']);
    expect(right.build().stages.map((s) => s.id)).toEqual(['a', 'c']);
  });

  it('only accepts dependencies on stages already added (checked by the compiler)', () => {
    const built = pipeline('p')
      .stage({ id: 'a', handler: 'h', priority: 1 })
      // @ts-expect-error "b" is not a stage added before this one
      .stage({ id: 'c', handler: 'h', priority: 1, dependsOn: ['b'] });
    expect(() => built.build()).toThrow(InvalidDefinitionError);
  });

  it('throws InvalidDefinitionError with every issue', () => {
    const builder = pipeline('')
      .stage({ id: 'a', handler: 'h', priority: 11 })
      .stage({ id: 'a', handler: 'h', priority: 1 });
    expect(() => builder.build()).toThrow(
      expect.objectContaining({
        name: 'InvalidDefinitionError',
        issues: [
          expect.objectContaining({ pathText: 'name', code: 'too_small' }),
          expect.objectContaining({ pathText: 'stages[0].priority', code: 'too_big' }),
          expect.objectContaining({ pathText: 'stages[1].id', code: 'duplicate_id' }),
        ],
      }),
    );
  });

  it('rejects a pipeline without stages', () => {
    expect(() => pipeline('p').build()).toThrow(
      expect.objectContaining({ message: 'stages: must be an array of 1–1,000 stages (got [])' }),
    );
  });
});
