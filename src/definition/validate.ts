/**
 * Validation at the edge: turns an untrusted value (parsed JSON/YAML, a workflow argument) into a
 * normalised {@link NormalisedPipelineDefinition}, or a list of every issue found, each naming its path
 * and the bad value. Pure and deterministic (called inside the workflow sandbox).
 */
import { type z } from 'zod';
import { InvalidDefinitionError } from './errors';
import { checkGraph } from './graph';
import { DEFAULT_ITEMS_MAX_SHARDS } from './limits';
import { type DefinitionIssue, describeValue, didYouMean, makeIssue } from './issues';
import { type CustomIssueParams, knownFieldsAt, pipelineDefinitionSchema } from './schema';
import {
  type NormalisedPipelineDefinition,
  type NormalisedShardSpec,
  type NormalisedStageDefinition,
  type NormalisedStageResources,
  type ShardSpec,
  type StageDefinition,
  type StageResources,
} from './types';

export { formatIssue, formatPath } from './issues';
export type { DefinitionIssue, DefinitionIssueCode } from './issues';

/** The outcome of {@link validateDefinition}: the normalised definition, or every issue found (never empty). */
export type DefinitionValidation =
  { ok: true; definition: NormalisedPipelineDefinition } | { ok: false; issues: DefinitionIssue[] };

function isCustomParams(params: unknown): params is CustomIssueParams {
  return typeof params === 'object' && params !== null && 'qmCode' in params;
}

/** `must be an integer 1–10` → `an integer 1–10`, for "is required (…)". */
function expectation(message: string): string {
  return message.replace(/^must be /, '');
}

/** One zod issue → definition issues (an unrecognised-keys issue becomes one issue per key). */
function convert(issue: z.core.$ZodIssue): DefinitionIssue[] {
  const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
  const hasInput = 'input' in issue && issue.input !== undefined;
  const input: unknown = issue.input;
  const got = ` (got ${describeValue(input)})`;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownFieldsAt(path);
      const object: Record<string, unknown> =
        typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
      return issue.keys.map((key) => {
        const hint = didYouMean(key, known);
        const suffix =
          hint !== undefined
            ? ` — did you mean ${JSON.stringify(hint)}?`
            : known.length > 0
              ? ` (expected one of: ${known.join(', ')})`
              : '';
        return makeIssue(
          'unknown_field',
          [...path, key],
          `unknown field ${JSON.stringify(key)}${suffix}`,
          object[key],
        );
      });
    }
    case 'invalid_key': {
      const reason = issue.issues[0]?.message ?? issue.message;
      return [makeIssue('invalid_format', path, `${reason}${got}`, input)];
    }
    case 'custom': {
      const params: unknown = issue.params;
      if (!isCustomParams(params)) return [makeIssue('invalid_value', path, issue.message, input)];
      return [
        params.hasValue
          ? makeIssue(params.qmCode, path, issue.message, params.value)
          : makeIssue(params.qmCode, path, issue.message),
      ];
    }
    case 'invalid_type':
      if (!hasInput) return [makeIssue('required', path, `is required (${expectation(issue.message)})`)];
      return [
        makeIssue(
          issue.expected === 'int' ? 'not_integer' : 'invalid_type',
          path,
          `${issue.message}${got}`,
          input,
        ),
      ];
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'invalid_value':
      return [makeIssue(issue.code, path, `${issue.message}${got}`, input)];
    default:
      return [makeIssue('invalid_value', path, `${issue.message}${got}`, input)];
  }
}

/** Issues about the pipeline itself first, then by stage, in the order found within each. */
function stageIndex(issue: DefinitionIssue): number {
  const [first, second] = issue.path;
  return first === 'stages' && typeof second === 'number' ? second : -1;
}

function toIssues(zodIssues: readonly z.core.$ZodIssue[], input: unknown): DefinitionIssue[] {
  // zod skips the schema's graph refinement when a field failed hard (e.g. a non-integer priority),
  // so check the graph of the raw input too; when both ran, the duplicates are dropped below.
  const stages =
    typeof input === 'object' && input !== null ? (input as { stages?: unknown }).stages : undefined;
  const seen = new Set<string>();
  const issues: DefinitionIssue[] = [];
  for (const issue of [...zodIssues.flatMap(convert), ...checkGraph(stages)]) {
    // Several checks of one field share one message; report it once.
    const key = `${issue.pathText}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues.sort((a, b) => stageIndex(a) - stageIndex(b));
}

/** A deep copy of a value already checked to be JSON (so `JSON` round-trips it exactly). */
function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function normaliseResources(resources: StageResources): NormalisedStageResources {
  return {
    desired: { ...resources.desired },
    minimum: { ...(resources.minimum ?? resources.desired) },
    ...(resources.waitForLargerNodes === true ? { waitForLargerNodes: true } : {}),
  };
}

function normaliseShard(shard: ShardSpec): NormalisedShardSpec {
  const { resources, ...rest } = shard;
  const maxShards = shard.by === 'count' ? (shard.count ?? 1) : (shard.maxShards ?? DEFAULT_ITEMS_MAX_SHARDS);
  return {
    ...withoutUndefined(rest),
    maxShards,
    partial: shard.partial ?? 'forbid',
    ...(resources === undefined ? {} : { resources: normaliseResources(resources) }),
  };
}

function normaliseStage(stage: StageDefinition): NormalisedStageDefinition {
  const { id, handler, priority, dependsOn, input, resources, shard, retry, ...limits } = stage;
  const out: NormalisedStageDefinition = {
    id,
    handler,
    priority,
    dependsOn: [...(dependsOn ?? [])],
    input: input === undefined ? {} : cloneJson(input),
  };
  if (resources !== undefined) out.resources = normaliseResources(resources);
  if (shard !== undefined) out.shard = normaliseShard(shard);
  if (retry !== undefined) out.retry = withoutUndefined({ ...retry });
  if (limits.timeoutSeconds !== undefined) out.timeoutSeconds = limits.timeoutSeconds;
  if (limits.deadlineSeconds !== undefined) out.deadlineSeconds = limits.deadlineSeconds;
  if (limits.expectedSeconds !== undefined) out.expectedSeconds = limits.expectedSeconds;
  return out;
}

/** Drops keys whose value is `undefined` (an explicit `undefined` is the same as absent). */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/**
 * Validates a pipeline definition and normalises it. Every rule is checked and every issue reported
 * (not just the first): types and ranges, unknown fields (with did-you-mean hints), resources,
 * sharding, and the dependency graph (duplicate ids, unknown or self dependencies, cycles).
 *
 * The normalised definition is a fresh object (the input is not modified or shared) with defaults
 * filled in: `importance` (0), each stage's `dependsOn` (`[]`) and `input` (`{}`), `resources.minimum`
 * (= `desired`), and `shard.partial` (`'forbid'`). Validating it again returns an equal definition.
 * Never throws.
 *
 * @example
 * const result = validateDefinition(JSON.parse(text));
 * if (!result.ok) console.error(result.issues.map(formatIssue).join('\n'));
 */
export function validateDefinition(input: unknown): DefinitionValidation {
  const result = pipelineDefinitionSchema.safeParse(input, { reportInput: true });
  if (!result.success) return { ok: false, issues: toIssues(result.error.issues, input) };
  const { name, description, importance, stages } = result.data;
  const definition: NormalisedPipelineDefinition = {
    name,
    ...(description === undefined ? {} : { description }),
    importance: importance ?? 0,
    stages: stages.map((stage) => normaliseStage(withoutUndefined(stage))),
  };
  return { ok: true, definition };
}

/**
 * Like {@link validateDefinition}, but returns the normalised definition directly.
 *
 * @throws InvalidDefinitionError listing every issue (one per line in the message; structured in `issues`).
 */
export function assertValidDefinition(input: unknown): NormalisedPipelineDefinition {
  const result = validateDefinition(input);
  if (!result.ok) throw new InvalidDefinitionError(result.issues);
  return result.definition;
}
