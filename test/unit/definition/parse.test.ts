import { DefinitionParseError } from '../../../src/definition/errors';
import { parseDefinitionText } from '../../../src/definition/parse';
import { validateDefinition } from '../../../src/definition/validate';
import { example } from './fixtures';

function parseError(text: string, format?: 'json' | 'yaml'): DefinitionParseError {
  try {
    parseDefinitionText(text, format);
  } catch (err) {
    expect((err as Error).name).toBe('DefinitionParseError');
    return err as DefinitionParseError;
  }
  throw new Error('expected a DefinitionParseError');
}

const exampleYaml = `
name: nightly-etl
importance: 0
stages:
  - id: extract
    handler: qm.sleep
    priority: 7
    input: { ms: 200 }
    resources:
      desired: { cpu: 2, memoryMb: 1024 }
      minimum: { cpu: 1, memoryMb: 512 }
  - id: total
    handler: qm.sum
    priority: 9
    dependsOn: [extract]
    input:
      numbers: [1, 2, 3]
    shard: { by: items, field: numbers, maxShards: 8, reassemble: qm.sum }
    retry: { maximumAttempts: 3 }
    timeoutSeconds: 60
`;

describe('parseDefinitionText', () => {
  it('reads the example as YAML and as JSON alike', () => {
    const json = JSON.stringify(example(), null, 2);
    expect(parseDefinitionText(exampleYaml)).toEqual(example());
    expect(parseDefinitionText(json)).toEqual(example());
    expect(parseDefinitionText(json, 'json')).toEqual(example());
    expect(parseDefinitionText(json, 'yaml')).toEqual(example());
    expect(validateDefinition(parseDefinitionText(exampleYaml)).ok).toBe(true);
  });

  it('ignores a byte-order mark and leading space', () => {
    expect(parseDefinitionText('\uFEFF  {"name": "p"}')).toEqual({ name: 'p' });
    expect(parseDefinitionText('\uFEFFname: p\n')).toEqual({ name: 'p' });
  });

  it('reads YAML 1.2: yes and on stay strings, aliases expand', () => {
    expect(parseDefinitionText('a: yes\nb: on\nc: &x [1, 2]\nd: *x\n')).toEqual({
      a: 'yes',
      b: 'on',
      c: [1, 2],
      d: [1, 2],
    });
  });

  it('parses an empty YAML document to null', () => {
    expect(parseDefinitionText('# nothing\n')).toBeNull();
  });

  it.each<[string, string, 'json' | 'yaml' | undefined, number, number, string]>([
    [
      'a missing comma',
      '{\n  "name": "p"\n  "stages": []\n}',
      undefined,
      3,
      3,
      "expected ',' or '}', found \"\\\"\"",
    ],
    [
      'a trailing comma',
      '{ "name": "p", }',
      undefined,
      1,
      16,
      'expected a double-quoted property name, found "}"',
    ],
    ['a missing value', '{"a":}', 'json', 1, 6, 'expected a value, found "}"'],
    ['a duplicate key', '{\n "name": "a",\n "name": "b"\n}', undefined, 3, 2, 'duplicate key "name"'],
    ['an unterminated string', '{"name": "p', undefined, 1, 10, 'unterminated string'],
    ['trailing text', '{"name": "p"} x', undefined, 1, 15, 'unexpected "x" after the value'],
    ['YAML read as JSON', 'name: p', 'json', 1, 1, 'expected a value, found "n"'],
  ])('reports JSON with %s at its line and column', (_what, text, format, line, column, reason) => {
    const error = parseError(text, format);
    expect(error).toBeInstanceOf(DefinitionParseError);
    expect({ format: error.format, line: error.line, column: error.column, reason: error.reason }).toEqual({
      format: 'json',
      line,
      column,
      reason,
    });
    expect(error.message).toBe(`invalid JSON at line ${line}, column ${column}: ${reason}`);
  });

  it.each<[string, string, number, number, string]>([
    ['a duplicate key', 'name: a\nstages: []\nname: b\n', 3, 1, 'must be unique'],
    ['bad indentation', 'name: p\nstages:\n  - id: a\n   handler: h\n', 4, 1, ''],
    ['an unclosed flow sequence', 'name: p\nstages: [a, b\n', 3, 1, ''],
    ['several documents', 'name: a\n---\nname: b\n', 2, 1, 'multiple documents'],
  ])('reports YAML with %s at its line and column', (_what, text, line, column, hint) => {
    const error = parseError(text);
    expect(error.format).toBe('yaml');
    expect([error.line, error.column]).toEqual([line, column]);
    expect(error.message).toMatch(new RegExp(`^invalid YAML at line ${line}, column ${column}: `));
    expect(error.message.toLowerCase()).toContain(hint.toLowerCase());
  });

  it('rejects a YAML alias bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      bomb.push(
        `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    expect(parseError(bomb.join('\n')).format).toBe('yaml');
  });
});
