import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDefinitionText } from '../definition/parse';

/** True when `arg` names an existing file (so `qm submit` treats it as a file, not a registered name). */
export function isDefinitionFile(arg: string): boolean {
  return existsSync(arg) && statSync(arg).isFile();
}

/**
 * Reads and parses a JSON or YAML definition file (format from the extension; `.json` is JSON,
 * anything else YAML, which also accepts JSON). Not validated here.
 * @throws DefinitionParseError with the file's line and column; Error when the file cannot be read.
 */
export function readDefinitionFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const format = path.extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
  return parseDefinitionText(text, format);
}
