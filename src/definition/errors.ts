/**
 * Errors thrown by the definition module. Match them by `name` (`instanceof` breaks across the
 * workflow sandbox and Jest module registries). Both are user errors: not retryable.
 */
import { type DefinitionIssue, formatIssue } from './issues';

/**
 * A pipeline definition broke one or more rules. Thrown by `assertValidDefinition`, the builder's
 * `build()` and `topologicalOrder` (on a cyclic or dangling graph). The message lists the issues one
 * per line as `pathText: message`; `issues` holds them structured.
 */
export class InvalidDefinitionError extends Error {
  /** Always `'InvalidDefinitionError'`. */
  override readonly name = 'InvalidDefinitionError';
  /** Every issue found (never empty). */
  readonly issues: readonly DefinitionIssue[];

  /** @param issues the issues found; the message is built from them. */
  constructor(issues: readonly DefinitionIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

/**
 * The text of a definition is not well-formed JSON or YAML. Thrown by `parseDefinitionText`.
 * `line` and `column` (1-based) say where, when the parser knows.
 */
export class DefinitionParseError extends Error {
  /** Always `'DefinitionParseError'`. */
  override readonly name = 'DefinitionParseError';
  /** Which syntax the text was read as. */
  readonly format: 'json' | 'yaml';
  /** 1-based line of the error, when known. */
  readonly line: number | undefined;
  /** 1-based column of the error, when known. */
  readonly column: number | undefined;
  /** What the parser said, without the position (the message adds it). */
  readonly reason: string;

  /**
   * @param format the syntax the text was read as
   * @param reason what is wrong, without the position
   * @param position 1-based line and column, when known
   */
  constructor(format: 'json' | 'yaml', reason: string, position?: { line: number; column: number }) {
    const where = position ? ` at line ${position.line}, column ${position.column}` : '';
    super(`invalid ${format === 'json' ? 'JSON' : 'YAML'}${where}: ${reason}`);
    this.format = format;
    this.reason = reason;
    this.line = position?.line;
    this.column = position?.column;
  }
}
