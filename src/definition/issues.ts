/**
 * Structured validation issues for pipeline definitions, and the small pure helpers that name where
 * an issue is (`stages[1].resources.minimum.cpu`) and what was found there. No I/O: this file is
 * imported inside Temporal's workflow sandbox.
 */

/**
 * What went wrong, machine-readable. Match on this (never on message text).
 *
 * - `required`: a required field is missing.
 * - `invalid_type`: the value has the wrong JSON type (or is `NaN`/`Infinity`).
 * - `not_integer`: a whole number was expected.
 * - `too_small` / `too_big`: a number, string length or array length is out of range.
 * - `invalid_format`: a string does not match its pattern (stage id, resource name, blank name).
 * - `invalid_value`: not one of the allowed values (`shard.by`, `shard.partial`).
 * - `unknown_field`: a field that the object does not have (the message may suggest one).
 * - `not_allowed`: a field that does not apply here (`shard.count` with `by: "items"`).
 * - `not_json`: a stage `input` holds something JSON cannot carry (a function, `undefined`, a `Date`…).
 * - `minimum_not_desired`: a `resources.minimum` key that `resources.desired` lacks.
 * - `minimum_above_desired`: a `resources.minimum` quantity above the desired one.
 * - `duplicate_id`: a stage id used twice.
 * - `unknown_dependency`: `dependsOn` names no stage of the pipeline.
 * - `self_dependency`: a stage depends on itself.
 * - `duplicate_dependency`: `dependsOn` names the same stage twice.
 * - `dependency_cycle`: stages depend on each other in a loop.
 */
export type DefinitionIssueCode =
  | 'required'
  | 'invalid_type'
  | 'not_integer'
  | 'too_small'
  | 'too_big'
  | 'invalid_format'
  | 'invalid_value'
  | 'unknown_field'
  | 'not_allowed'
  | 'not_json'
  | 'minimum_not_desired'
  | 'minimum_above_desired'
  | 'duplicate_id'
  | 'unknown_dependency'
  | 'self_dependency'
  | 'duplicate_dependency'
  | 'dependency_cycle';

/** One problem found in a pipeline definition. Plain JSON apart from `value`, which is the input as found. */
export interface DefinitionIssue {
  /** What went wrong; see {@link DefinitionIssueCode}. */
  code: DefinitionIssueCode;
  /** Where, as keys and array indices from the root: `['stages', 1, 'priority']`; `[]` for the root. */
  path: Array<string | number>;
  /** `path` as text: `stages[1].priority`; `''` for the root (printed as `(root)` by `formatIssue`). */
  pathText: string;
  /** Human-readable explanation, naming the bad value: `must be an integer 1–10 (got 11)`. */
  message: string;
  /** The offending value, when there is one (absent for a missing field). */
  value?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a path as text: `['stages', 1, 'resources', 'minimum', 'cpu']` → `stages[1].resources.minimum.cpu`.
 * Keys that are not identifiers are bracketed and quoted (`resources.desired["db-connections"]`).
 * The root (`[]`) is `''`. Never throws.
 */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * Formats an issue for people, one line: `stages[1].priority: must be an integer 1–10 (got 11)`.
 * An issue at the root prints as `(root): …`. Never throws.
 */
export function formatIssue(issue: Pick<DefinitionIssue, 'pathText' | 'message'>): string {
  return `${issue.pathText === '' ? '(root)' : issue.pathText}: ${issue.message}`;
}

/**
 * Builds a {@link DefinitionIssue}, deriving `pathText` from `path`. `value` is only set when given
 * (so a missing field's issue has no `value` key at all). Never throws.
 */
export function makeIssue(
  code: DefinitionIssueCode,
  path: ReadonlyArray<string | number>,
  message: string,
  ...value: [] | [unknown]
): DefinitionIssue {
  const issue: DefinitionIssue = { code, path: [...path], pathText: formatPath(path), message };
  if (value.length > 0) issue.value = value[0];
  return issue;
}

const MAX_SHOWN = 48;

/**
 * Describes a value briefly for a message: strings quoted, numbers as written (`Infinity`, `NaN`),
 * short arrays/objects as JSON, long ones summarised (`an array of 1001 items`). Never throws.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      break;
  }
  if (value === null) return 'null';
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // cyclic or holding a bigint: fall through to the summary
  }
  if (json !== undefined && json.length <= MAX_SHOWN) return json;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  const keys = Object.keys(value as object);
  const shown = keys.slice(0, 4).join(', ');
  return keys.length === 0 ? 'an object' : `an object with keys ${shown}${keys.length > 4 ? ', …' : ''}`;
}

/** Levenshtein edit distance between two strings (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate `word` was most likely meant to be, or `undefined` when none is close. Case is
 * ignored (`dependson` → `dependsOn`); a candidate that starts with the word is accepted
 * (`timeout` → `timeoutSeconds`); otherwise the edit distance must be at most a third of the
 * candidate's length (at least 1). Ties go to the earlier candidate. Never throws.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const target = candidate.toLowerCase();
    let score = editDistance(lower, target);
    if (score > Math.max(1, Math.floor(candidate.length / 3))) {
      if (lower.length >= 3 && target.startsWith(lower)) score = target.length - lower.length;
      else continue;
    }
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
