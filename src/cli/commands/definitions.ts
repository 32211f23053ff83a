import type { Command } from 'commander';
import { registerDefinition, getDefinition } from '../../ledger/definitions';
import { validateDefinition, formatIssue } from '../../definition/validate';
import type { PipelineDefinition } from '../../definition/types';
import { withDatabase, UsageError } from '../context';
import { readDefinitionFile } from '../read-definition';

/** Thrown by `qm validate` / `qm register` for an invalid file: one line per problem, exit code 2. */
export class DefinitionProblemsError extends Error {
  override readonly name = 'DefinitionProblemsError';
  constructor(
    readonly file: string,
    readonly lines: string[],
  ) {
    super(`${file} is not a valid pipeline definition:\n${lines.join('\n')}`);
  }
}

/**
 * Reads and validates a definition file.
 * @throws DefinitionProblemsError listing every problem (parse errors included).
 */
export function loadValidDefinition(file: string): PipelineDefinition {
  let raw: unknown;
  try {
    raw = readDefinitionFile(file);
  } catch (err) {
    if (err instanceof Error && err.name === 'DefinitionParseError')
      throw new DefinitionProblemsError(file, [err.message]);
    throw err;
  }
  const result = validateDefinition(raw);
  if (!result.ok)
    throw new DefinitionProblemsError(
      file,
      result.issues.map((i) => `${file}: ${formatIssue(i)}`),
    );
  return result.definition;
}

/** `qm validate FILE`: exit 0 and a summary when valid. @throws DefinitionProblemsError. */
export function validateCommand(file: string): void {
  const def = loadValidDefinition(file);
  process.stdout.write(`${file}: valid pipeline "${def.name}" with ${def.stages.length} stage(s)\n`);
}

/**
 * `qm register FILE`: stores the definition as the next version of its name (the same content again is
 * not a new version). @throws DefinitionProblemsError; DatabaseUnavailableError.
 */
export async function registerCommand(
  file: string,
  now: Date = new Date(),
): Promise<{ name: string; version: number; created: boolean }> {
  const def = loadValidDefinition(file);
  const stored = await withDatabase((db) => registerDefinition(db, def.name, def, now));
  process.stdout.write(
    stored.created
      ? `registered "${stored.name}" version ${stored.version}\n`
      : `"${stored.name}" version ${stored.version} already has this content; nothing changed\n`,
  );
  return { name: stored.name, version: stored.version, created: stored.created };
}

/**
 * The definition `qm submit` starts: a file's, or the latest registered version of a name (`NAME@N` for a
 * given version). @throws UsageError, DefinitionNotFoundError, DefinitionProblemsError.
 */
export async function resolveDefinition(fileOrName: string, isFile: boolean): Promise<PipelineDefinition> {
  return (await resolveDefinitionVersion(fileOrName, isFile)).definition;
}

/**
 * {@link resolveDefinition}, with the registered version it came from (absent for a file), which
 * `qm submit` passes on so execution records name it.
 * @throws UsageError, DefinitionNotFoundError, DefinitionProblemsError.
 */
export async function resolveDefinitionVersion(
  fileOrName: string,
  isFile: boolean,
): Promise<{ definition: PipelineDefinition; version?: number }> {
  if (isFile) return { definition: loadValidDefinition(fileOrName) };
  const match = /^([^@]+)(?:@(\d+))?$/.exec(fileOrName);
  if (match === null) throw new UsageError(`"${fileOrName}" is neither a file nor a definition name`);
  const [, name, version] = match;
  const stored = await withDatabase((db) =>
    getDefinition(db, name as string, version === undefined ? undefined : Number(version)),
  );
  return { definition: stored.definition as PipelineDefinition, version: stored.version };
}

/** Adds `validate` and `register`. */
export function registerDefinitionCommands(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline definition (JSON or YAML); exit 2 with one line per problem')
    .argument('<file>')
    .action((file: string) => validateCommand(file));
  program
    .command('register')
    .description('store a definition in the registry as a new version of its name')
    .argument('<file>')
    .action(async (file: string) => {
      await registerCommand(file);
    });
}
