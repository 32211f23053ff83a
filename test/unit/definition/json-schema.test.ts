import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { PIPELINE_SCHEMA_ID, pipelineJsonSchema } from '../../../src/definition/json-schema';
import { validateDefinition } from '../../../src/definition/validate';
import { example } from './fixtures';

const committedFile = path.join(__dirname, '..', '..', '..', 'schema', 'pipeline.schema.json');

describe('pipeline JSON Schema', () => {
  it('matches the committed schema/pipeline.schema.json (regenerate with `npm run schema`)', () => {
    const committed = JSON.parse(readFileSync(committedFile, 'utf8')) as unknown;
    expect(committed).toEqual(pipelineJsonSchema());
  });

  it('has the editor metadata', () => {
    expect(pipelineJsonSchema()).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: PIPELINE_SCHEMA_ID,
      title: 'Quartermaster pipeline',
      additionalProperties: false,
      required: ['name', 'stages'],
    });
  });

  describe('checked by an independent validator (Ajv, draft 2020-12)', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(pipelineJsonSchema());

    it('accepts the example and its normalised form', () => {
      expect(validate(example())).toBe(true);
      const result = validateDefinition(example());
      expect(result.ok && validate(result.definition)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['an unknown field', { ...example(), extra: 1 }],
      ['a priority of 11', { name: 'p', stages: [{ id: 'a', handler: 'h', priority: 11 }] }],
      ['a bad stage id', { name: 'p', stages: [{ id: 'a b', handler: 'h', priority: 1 }] }],
      [
        'a bad resource name',
        { name: 'p', stages: [{ id: 'a', handler: 'h', priority: 1, resources: { desired: { '9x': 1 } } }] },
      ],
      ['no stages', { name: 'p', stages: [] }],
    ])('rejects %s', (_what, input) => {
      expect(validate(input)).toBe(false);
      expect(validateDefinition(input).ok).toBe(false);
    });
  });
});
