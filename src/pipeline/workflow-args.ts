/**
 * The one schema of `pipelineWorkflow`'s argument, `{ definition, input?, importance? }`, checked before
 * anything else in the workflow (and by `startPipeline` before it starts one). Pure and deterministic. The
 * workflow runs it as a local activity (`checkPipelineArgs`): imported into the workflow sandbox it would
 * build the whole zod schema in every workflow run (the sandbox evaluates modules per run).
 */
import type { JsonValue } from '../handlers/types';
import type { PipelineCarry } from './types';
import { MAX_IMPORTANCE, MAX_NAME_LENGTH } from '../definition/limits';
import { type DefinitionIssue, describeValue, didYouMean, makeIssue } from '../definition/issues';
import { findNonJson } from '../definition/schema';
import type { NormalisedPipelineDefinition } from '../definition/types';
import { validateDefinition } from '../definition/validate';

/** The fields `pipelineWorkflow`'s argument accepts. */
export const PIPELINE_ARGUMENT_FIELDS = ['definition', 'input', 'importance'] as const;

import { type CheckedPipelineArgs, pipelineArgsFailure, type PipelineArgsErrorType } from './args-failure';

/** A checked argument: the normalised definition, the run input (`null` when absent) and the importance to run at. */
export interface ValidPipelineArgs {
  /** The definition, normalised (defaults filled in). */
  definition: NormalisedPipelineDefinition;
  /** The run input. @default null */
  input: JsonValue;
  /** The run's base importance: `importance` when given, else the definition's. */
  importance: number;
  /** What the previous run carried (continue-as-new). */
  carry?: PipelineCarry;
}

/** The outcome of {@link validatePipelineArgs}. */
export type PipelineArgsValidation =
  | { ok: true; args: ValidPipelineArgs }
  | {
      ok: false;
      /** Which failure to raise. */
      type: PipelineArgsErrorType;
      /** Every issue, paths from the argument's root (`definition.stages[1].priority`); never empty. */
      issues: DefinitionIssue[];
      /** The pipeline's name when the argument carries one as a string (cut to 200 characters), for `QmPipeline`. */
      pipelineName?: string;
    };

const SHAPE = '{ "definition": { "name": …, "stages": [ … ] }, "input"?: any JSON, "importance"?: 0–10 }';

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function nameOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const name = value['name'];
  return typeof name === 'string' && name.trim() !== '' ? name.slice(0, MAX_NAME_LENGTH) : undefined;
}

/**
 * Checks `pipelineWorkflow`'s whole argument. Never throws, whatever the value (fuzzed in
 * `test/unit/pipeline/fuzz.test.ts`). A bare definition without the wrapper gets one issue saying to
 * wrap it in `{"definition": …}`; unknown keys get a did-you-mean hint (`inputs` → `input`).
 */
export function validatePipelineArgs(raw: unknown): PipelineArgsValidation {
  if (!isRecord(raw)) {
    const issue =
      raw === undefined || raw === null
        ? makeIssue(
            'required',
            [],
            `pipelineWorkflow takes one argument: ${SHAPE} (got ${describeValue(raw)})`,
          )
        : makeIssue('invalid_type', [], `must be an object ${SHAPE} (got ${describeValue(raw)})`, raw);
    return { ok: false, type: 'InvalidArgumentError', issues: [issue] };
  }
  if (!Object.hasOwn(raw, 'definition') || raw['definition'] === undefined) {
    const bare = Object.hasOwn(raw, 'stages') || Object.hasOwn(raw, 'name');
    const name = bare ? nameOf(raw) : undefined;
    const issue = bare
      ? makeIssue(
          'required',
          ['definition'],
          'is required: this looks like a bare pipeline definition — wrap it: {"definition": { "name": …, "stages": [ … ] }}',
        )
      : makeIssue('required', ['definition'], `is required (the pipeline definition): ${SHAPE}`);
    return {
      ok: false,
      type: 'InvalidArgumentError',
      issues: [issue],
      ...(name === undefined ? {} : { pipelineName: name }),
    };
  }
  const wrapper: DefinitionIssue[] = [];
  for (const key of Object.keys(raw)) {
    if ((PIPELINE_ARGUMENT_FIELDS as readonly string[]).includes(key)) continue;
    if (key === 'carry') {
      // Internal (continue-as-new): only its shape is checked; it never comes from a client.
      if (!isCarry(raw[key]))
        wrapper.push(makeIssue('invalid_type', [key], 'is internal (set by continue-as-new)'));
      continue;
    }
    if (raw[key] === undefined) continue; // dropped by JSON: as if absent
    const hint = didYouMean(key, PIPELINE_ARGUMENT_FIELDS);
    const suffix =
      hint !== undefined
        ? ` — did you mean ${JSON.stringify(hint)}?`
        : ` (expected one of: ${PIPELINE_ARGUMENT_FIELDS.join(', ')})`;
    wrapper.push(makeIssue('unknown_field', [key], `unknown field ${describeValue(key)}${suffix}`, raw[key]));
  }
  const importance = raw['importance'];
  const expected = `must be a number 0–${MAX_IMPORTANCE}`;
  if (importance !== undefined) {
    if (typeof importance !== 'number' || !Number.isFinite(importance))
      wrapper.push(
        makeIssue(
          'invalid_type',
          ['importance'],
          `${expected} (got ${describeValue(importance)})`,
          importance,
        ),
      );
    else if (importance < 0)
      wrapper.push(makeIssue('too_small', ['importance'], `${expected} (got ${importance})`, importance));
    else if (importance > MAX_IMPORTANCE)
      wrapper.push(makeIssue('too_big', ['importance'], `${expected} (got ${importance})`, importance));
  }
  const input = raw['input'];
  if (input !== undefined) {
    const bad = findNonJson(input, ['input'], new Set());
    if (bad) wrapper.push(makeIssue('not_json', bad.path, `must be JSON (found ${bad.found})`, bad.value));
  }
  const definition = validateDefinition(raw['definition']);
  const pipelineName = nameOf(raw['definition']);
  const named = pipelineName === undefined ? {} : { pipelineName };
  const issues = [
    ...wrapper,
    ...(definition.ok
      ? []
      : definition.issues.map((issue) =>
          'value' in issue
            ? makeIssue(issue.code, ['definition', ...issue.path], issue.message, issue.value)
            : makeIssue(issue.code, ['definition', ...issue.path], issue.message),
        )),
  ];
  if (issues.length > 0 || !definition.ok) {
    return {
      ok: false,
      type: wrapper.length > 0 ? 'InvalidArgumentError' : 'InvalidDefinitionError',
      issues,
      ...named,
    };
  }
  return {
    ok: true,
    args: {
      definition: definition.definition,
      input: input === undefined ? null : (input as JsonValue),
      importance: typeof importance === 'number' ? importance : definition.definition.importance,
      ...(isCarry(raw['carry']) ? { carry: raw['carry'] } : {}),
    },
  };
}

function isCarry(value: unknown): value is PipelineCarry {
  const o = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!o(value) || !o(value['stages']) || !o(value['boosts']) || !o(value['nonces'])) return false;
  const b = value['boosts'];
  return Array.isArray(b['boosts']) && Array.isArray(b['ignored']) && typeof value['runs'] === 'number';
}

/**
 * {@link validatePipelineArgs} in the form the workflow records (`checkPipelineArgs`, a local activity):
 * the normalised definition and importance, or the bounded rejection. Never throws.
 */
export function checkPipelineArgs(raw: unknown): CheckedPipelineArgs {
  const checked = validatePipelineArgs(raw);
  if (checked.ok)
    return { ok: true, definition: checked.args.definition, importance: checked.args.importance };
  const { message, issues } = pipelineArgsFailure(checked.issues);
  return {
    ok: false,
    type: checked.type,
    message,
    issues,
    ...(checked.pipelineName === undefined ? {} : { pipelineName: checked.pipelineName }),
  };
}
