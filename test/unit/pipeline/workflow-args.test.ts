import { pipelineArgsFailure } from '../../../src/pipeline/args-failure';
import { validatePipelineArgs, type PipelineArgsValidation } from '../../../src/pipeline/workflow-args';

const definition = { name: 'p', stages: [{ id: 'a', handler: 'qm.echo', priority: 5 }] };

function rejected(raw: unknown): Extract<PipelineArgsValidation, { ok: false }> {
  const result = validatePipelineArgs(raw);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.args)}`);
  return result;
}

describe('validatePipelineArgs', () => {
  it('accepts { definition } and fills input and importance', () => {
    const result = validatePipelineArgs({ definition });
    expect(result).toMatchObject({ ok: true, args: { input: null, importance: 0 } });
  });

  it('takes importance and input when given', () => {
    const result = validatePipelineArgs({ definition, input: { a: 1 }, importance: 7.5 });
    expect(result).toMatchObject({ ok: true, args: { input: { a: 1 }, importance: 7.5 } });
  });

  // [what, argument, failure type, code, pathText, message fragment]
  it.each<[string, unknown, string, string, string, string]>([
    ['null', null, 'InvalidArgumentError', 'required', '', '"definition"'],
    ['no argument', undefined, 'InvalidArgumentError', 'required', '', '"definition"'],
    ['a string', 'p', 'InvalidArgumentError', 'invalid_type', '', '"definition"'],
    ['an array', [definition], 'InvalidArgumentError', 'invalid_type', '', '"definition"'],
    [
      'a bare definition',
      definition,
      'InvalidArgumentError',
      'required',
      'definition',
      'wrap it: {"definition"',
    ],
    ['an empty object', {}, 'InvalidArgumentError', 'required', 'definition', '"definition"'],
    [
      'importance "high" (looped for ever)',
      { definition, importance: 'high' },
      'InvalidArgumentError',
      'invalid_type',
      'importance',
      'must be a number 0–10 (got "high")',
    ],
    [
      'importance 99',
      { definition, importance: 99 },
      'InvalidArgumentError',
      'too_big',
      'importance',
      '0–10',
    ],
    [
      'importance 1e308',
      { definition, importance: 1e308 },
      'InvalidArgumentError',
      'too_big',
      'importance',
      '0–10',
    ],
    [
      'importance -5',
      { definition, importance: -5 },
      'InvalidArgumentError',
      'too_small',
      'importance',
      '0–10',
    ],
    [
      'importance NaN',
      { definition, importance: NaN },
      'InvalidArgumentError',
      'invalid_type',
      'importance',
      '0–10',
    ],
    [
      'unknown key "inputs"',
      { definition, inputs: {} },
      'InvalidArgumentError',
      'unknown_field',
      'inputs',
      'did you mean "input"?',
    ],
    [
      'input a function',
      { definition, input: { f: () => 1 } },
      'InvalidArgumentError',
      'not_json',
      'input.f',
      'must be JSON',
    ],
    [
      'a bad definition',
      { definition: { ...definition, importance: 11 } },
      'InvalidDefinitionError',
      'too_big',
      'definition.importance',
      '0–10',
    ],
  ])('rejects %s', (_what, raw, type, code, pathText, fragment) => {
    const result = rejected(raw);
    expect(result.type).toBe(type);
    expect(result.issues[0]).toMatchObject({ code, pathText });
    expect(result.issues[0]?.message).toContain(fragment);
  });

  it('names the pipeline when it can (for QmPipeline on invalid runs)', () => {
    expect(rejected(definition).pipelineName).toBe('p');
    expect(rejected({ definition: { name: 'x', stages: 3 } }).pipelineName).toBe('x');
    expect(rejected({ definition: { name: 5, stages: [] } }).pipelineName).toBeUndefined();
    expect(rejected({ definition: { name: 'n'.repeat(5000), stages: [] } }).pipelineName).toHaveLength(200);
  });
});

describe('pipelineArgsFailure', () => {
  it('is bounded whatever the input: 50 issues, short lines, no values', () => {
    const stages = Array.from({ length: 1000 }, (_, i) => ({
      id: `s${i}`,
      handler: 'h',
      priority: 'x'.repeat(1e4),
    }));
    const result = rejected({ definition: { name: 'big', stages }, ['k'.repeat(1e5)]: 'v'.repeat(1e6) });
    const failure = pipelineArgsFailure(result.issues);
    expect(failure.issues).toHaveLength(50);
    expect(failure.message).toMatch(/… and \d+ more issues$/);
    expect(failure.message.length).toBeLessThan(20_000);
    expect(JSON.stringify(failure.issues).length).toBeLessThan(30_000);
    expect(failure.issues[0]).not.toHaveProperty('value');
  });
});
