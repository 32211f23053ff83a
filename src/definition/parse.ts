/**
 * Reads the text of a definition file (JSON or YAML) into a plain value, ready for
 * `validateDefinition`. Meant for the edge (CLI, client), not workflows: workflows receive an
 * already-parsed value and import `validate.ts` directly. (The `yaml` package does bundle with
 * Temporal's workflow bundler, checked with `bundleWorkflowCode`, but there is no reason to ship it.)
 */
import { parseDocument } from 'yaml';
import { DefinitionParseError } from './errors';

/** 1-based line and column of a character offset in `text`. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Finds the first syntax error in JSON text, or a duplicate key in an object (which `JSON.parse`
 * silently accepts, keeping the last). Returns its offset and a reason, or `undefined` when the text
 * is valid JSON without duplicate keys. `JSON.parse` does not reliably say where an error is (Node 20
 * often reports only the token), hence this small scanner.
 */
function scanJson(text: string): { offset: number; reason: string } | undefined {
  let at = 0;
  class Stop extends Error {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {
      super(reason);
    }
  }
  const fail = (reason: string, offset = at): never => {
    throw new Stop(offset, reason);
  };
  const describe = (): string => (at >= text.length ? 'end of input' : `${JSON.stringify(text[at])}`);
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] ?? '')) at++;
  };
  const string = (): string => {
    const start = at;
    at++; // opening quote
    while (at < text.length) {
      const ch = text[at] ?? '';
      if (ch === '"') {
        at++;
        return JSON.parse(text.slice(start, at)) as string;
      }
      if (ch === '\\') {
        const next = text[at + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') at += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) at += 6;
        else fail('invalid escape in string');
      } else if (ch < ' ') fail('control character in string (escape it)');
      else at++;
    }
    return fail('unterminated string', start);
  };
  const value = (): void => {
    space();
    const ch = text[at];
    if (ch === '{') {
      const start = at;
      at++;
      const keys = new Set<string>();
      space();
      if (text[at] === '}') {
        at++;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail(`expected a double-quoted property name, found ${describe()}`);
        const keyAt = at;
        const key = string();
        if (keys.has(key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
        keys.add(key);
        space();
        if (text[at] !== ':') fail(`expected ':' after property name, found ${describe()}`);
        at++;
        value();
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return;
        }
        if (at >= text.length) {
          const opened = positionOf(text, start);
          fail(`unterminated object (opened at line ${opened.line}, column ${opened.column})`);
        }
        fail(`expected ',' or '}', found ${describe()}`);
      }
    }
    if (ch === '[') {
      at++;
      space();
      if (text[at] === ']') {
        at++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return;
        }
        fail(`expected ',' or ']', found ${describe()}`);
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (number) {
      at += number[0].length;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return;
      }
    }
    fail(`expected a value, found ${describe()}`);
  };
  try {
    value();
    space();
    if (at < text.length) fail(`unexpected ${describe()} after the value`);
    return undefined;
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, reason: err.reason };
    return undefined; // nested too deeply for this recursive scanner: let JSON.parse decide
  }
}

function parseJson(text: string): unknown {
  const problem = scanJson(text);
  if (problem) throw new DefinitionParseError('json', problem.reason, positionOf(text, problem.offset));
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Unreachable if the scanner is right; keep JSON.parse's own words rather than lose the error.
    throw new DefinitionParseError('json', err instanceof Error ? err.message : String(err));
  }
}

function parseYaml(text: string): unknown {
  // YAML 1.2 core schema: `yes`/`on` stay strings; duplicate keys and several documents are errors.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, version: '1.2' });
  const [error] = doc.errors;
  if (error) {
    const reason = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    const start = error.linePos?.[0];
    throw new DefinitionParseError(
      'yaml',
      reason,
      start ? { line: start.line, column: start.col } : undefined,
    );
  }
  try {
    // Aliases are expanded at most 100 times (the default), which stops "billion laughs" documents.
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new DefinitionParseError('yaml', err instanceof Error ? err.message : String(err));
  }
}

/**
 * Parses definition text into a plain value (not validated: pass it to `validateDefinition`).
 * JSON is read with `JSON.parse` when `format` is `'json'`, or when no format is given and the text
 * starts with `{` or `[`; anything else is read as YAML 1.2 (which also accepts JSON). A leading
 * byte-order mark is ignored. Duplicate keys are errors in both formats. An empty YAML document
 * parses to `null` (which validation then rejects).
 *
 * @param text the file's contents
 * @param format the syntax; by default guessed from the first character
 * @throws DefinitionParseError when the text is not well-formed, with `line` and `column` (1-based)
 * when known.
 */
export function parseDefinitionText(text: string, format?: 'json' | 'yaml'): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const trimmed = body.trimStart();
  const asJson =
    format === 'json' || (format === undefined && (trimmed.startsWith('{') || trimmed.startsWith('[')));
  return asJson ? parseJson(body) : parseYaml(body);
}
