/**
 * The schema of `shardWorkflow`'s argument (built by the parent pipeline, but a child workflow can be
 * started by anyone), checked before anything else in the shard. Pure: imported by the workflow.
 */
import { MAX_IMPORTANCE, MAX_SHARDS } from '../definition/limits';
import { type DefinitionIssue, describeValue, makeIssue } from '../definition/issues';
import { findNonJson } from '../definition/schema';
import { validateDefinition } from '../definition/validate';
import { type ArgsRejection, pipelineArgsFailure } from '../pipeline/args-failure';

const FIELDS = [
  'stage',
  'shard',
  'input',
  'deps',
  'pipelineInput',
  'importance',
  'parentWorkflowId',
  'readySince',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Every issue of a `shardWorkflow` argument (`[]` when it is valid): an object with exactly the fields of
 * `ShardWorkflowInput`; `stage` a valid stage (no `shard` spec: a shard never shards again);
 * `shard: { index, count }` with `0 ≤ index < count ≤ 256`; JSON `input`, `deps` and `pipelineInput`;
 * `importance` 0–10; a non-empty `parentWorkflowId`. Never throws.
 */
export function shardArgsIssues(raw: unknown): DefinitionIssue[] {
  if (!isRecord(raw))
    return [
      makeIssue('invalid_type', [], `must be an object { ${FIELDS.join(', ')} } (got ${describeValue(raw)})`),
    ];
  const issues: DefinitionIssue[] = [];
  for (const key of Object.keys(raw))
    if (!FIELDS.includes(key))
      issues.push(makeIssue('unknown_field', [key], `unknown field (expected one of: ${FIELDS.join(', ')})`));
  const stage = raw['stage'];
  if (!isRecord(stage)) issues.push(makeIssue('required', ['stage'], 'must be an object (a stage)'));
  else {
    if (stage['shard'] !== undefined)
      issues.push(makeIssue('not_allowed', ['stage', 'shard'], 'a shard never shards again'));
    // Checked as a one-stage pipeline (its dependencies already ran in the parent).
    const { dependsOn: _deps, shard: _shard, input: _input, ...own } = stage;
    const checked = validateDefinition({ name: 'shard', stages: [own] });
    if (!checked.ok)
      for (const issue of checked.issues)
        issues.push(makeIssue(issue.code, ['stage', ...issue.path.slice(2)], issue.message));
  }
  const shard = raw['shard'];
  if (
    !isRecord(shard) ||
    !isInt(shard['count'], 1, MAX_SHARDS) ||
    !isInt(shard['index'], 0, (shard['count'] as number) - 1)
  )
    issues.push(
      makeIssue(
        'invalid_value',
        ['shard'],
        `must be { index, count } with 0 ≤ index < count ≤ ${MAX_SHARDS} (got ${describeValue(shard)})`,
      ),
    );
  for (const key of ['input', 'deps', 'pipelineInput']) {
    const bad = findNonJson(raw[key] ?? null, [key], new Set());
    if (bad) issues.push(makeIssue('not_json', bad.path, `must be JSON (found ${bad.found})`));
  }
  if (raw['deps'] !== undefined && !isRecord(raw['deps']))
    issues.push(makeIssue('invalid_type', ['deps'], 'must be an object (stage id → output)'));
  const importance = raw['importance'];
  if (typeof importance !== 'number' || !(importance >= 0 && importance <= MAX_IMPORTANCE))
    issues.push(
      makeIssue(
        'invalid_value',
        ['importance'],
        `must be a number 0–${MAX_IMPORTANCE} (got ${describeValue(importance)})`,
      ),
    );
  const parent = raw['parentWorkflowId'];
  if (typeof parent !== 'string' || parent === '')
    issues.push(makeIssue('required', ['parentWorkflowId'], 'must be a non-empty string'));
  const since = raw['readySince'];
  if (since !== undefined && (typeof since !== 'string' || !Number.isFinite(Date.parse(since))))
    issues.push(
      makeIssue('invalid_value', ['readySince'], `must be an ISO-8601 time (got ${describeValue(since)})`),
    );
  return issues;
}

/**
 * {@link shardArgsIssues} in the form the shard workflow fails with (`checkShardArgs`, a local activity):
 * the bounded rejection, or null when the argument is good. Never throws.
 */
export function checkShardArgs(raw: unknown): ArgsRejection | null {
  const issues = shardArgsIssues(raw);
  if (issues.length === 0) return null;
  const { message, issues: reported } = pipelineArgsFailure(issues);
  return {
    type: 'InvalidArgumentError',
    message: message.replace('pipelineWorkflow', 'shardWorkflow'),
    issues: reported,
  };
}
