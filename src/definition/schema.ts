/**
 * The zod (v4) schema of a pipeline definition: strict objects (unknown fields are rejected), field
 * rules with messages that say what is expected, the cross-field rules (resources, sharding) and the
 * graph rules of `graph.ts`. Use `validateDefinition` rather than parsing with this schema directly:
 * it turns zod's issues into `DefinitionIssue`s and normalises the result. Pure (imported by
 * workflows).
 */
import { z } from 'zod';
import { checkGraph } from './graph';
import { type DefinitionIssueCode, describeValue } from './issues';
import {
  MAX_ATTEMPTS,
  MAX_BACKOFF_COEFFICIENT,
  MAX_DESCRIPTION_LENGTH,
  MAX_HANDLER_NAME_LENGTH,
  MAX_INPUT_DEPTH,
  MAX_ITEMS_PER_SHARD,
  MAX_NAME_LENGTH,
  MAX_RESOURCE_NAME_LENGTH,
  MAX_RESOURCE_QUANTITY,
  MAX_RESOURCES_PER_VECTOR,
  MAX_SECONDS,
  MAX_SHARDS,
  MAX_STAGES,
  MIN_SECONDS,
} from './limits';

/** Stage ids: 1–64 letters, digits, `_`, `.` or `-`. */
export const STAGE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Resource names: a letter, then letters, digits, `_`, `:`, `.` or `-`. */
export const RESOURCE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_:.-]*$/;
export { MAX_STAGES, MAX_NAME_LENGTH, MAX_INPUT_DEPTH } from './limits';
/** Longest `timeoutSeconds`: 7 days (= `MAX_SECONDS` in `limits.ts`). */
export const MAX_TIMEOUT_SECONDS = MAX_SECONDS;

/** Extra data carried by the custom issues this schema raises (read back by `validateDefinition`). */
export interface CustomIssueParams {
  /** The definition issue code. */
  qmCode: DefinitionIssueCode;
  /** The offending value, when there is one. */
  value?: unknown;
  /** Whether `value` is set (so that an `undefined` value can still be reported). */
  hasValue: boolean;
}

// ── field helpers: every check of a field carries the same message, which says what is expected ──

function text(expected: string, max?: number): z.ZodString {
  const base = z.string({ error: expected }).min(1, { error: expected }).regex(/\S/, { error: expected });
  return max === undefined ? base : base.max(max, { error: expected });
}

function integer(min: number, max?: number): z.ZodNumber {
  const expected = max === undefined ? `must be an integer ≥ ${min}` : `must be an integer ${min}–${max}`;
  const base = z.number({ error: expected }).int({ error: expected }).min(min, { error: expected });
  return max === undefined ? base : base.max(max, { error: expected });
}

/** A duration or interval in seconds: finite, in [{@link MIN_SECONDS}, {@link MAX_SECONDS}] (1 ms – 7 days). */
function seconds(): z.ZodNumber {
  const expected = `must be a number of seconds from ${MIN_SECONDS} to ${MAX_SECONDS} (7 days)`;
  return z
    .number({ error: expected })
    .min(MIN_SECONDS, { error: expected })
    .max(MAX_SECONDS, { error: expected });
}

const QUANTITY_EXPECTED = `must be a finite number ≥ 0 and at most ${MAX_RESOURCE_QUANTITY}`;
const quantity = z
  .number({ error: QUANTITY_EXPECTED })
  .min(0, { error: QUANTITY_EXPECTED })
  .max(MAX_RESOURCE_QUANTITY, { error: QUANTITY_EXPECTED });

const resourceVector = z
  .record(
    z
      .string()
      .regex(RESOURCE_NAME_PATTERN, {
        error: `resource names must match ${RESOURCE_NAME_PATTERN.source}`,
      })
      .max(MAX_RESOURCE_NAME_LENGTH, {
        error: `resource names must be at most ${MAX_RESOURCE_NAME_LENGTH} characters`,
      }),
    quantity,
    { error: 'must be an object mapping resource names to quantities' },
  )
  .refine((vector) => Object.keys(vector).length <= MAX_RESOURCES_PER_VECTOR, {
    error: `must name at most ${MAX_RESOURCES_PER_VECTOR} resources`,
  })
  .meta({
    description:
      'Resource name → non-negative quantity. Host resources: cpu (cores), memoryMb, gpu (devices), diskIoMBps, netMbps; any other name is a cluster-wide custom pool.',
  });

type Ctx = z.core.$RefinementCtx<unknown>;

function addIssue(
  ctx: Ctx,
  qmCode: DefinitionIssueCode,
  path: Array<string | number>,
  message: string,
  ...value: [] | [unknown]
): void {
  const params: CustomIssueParams = { qmCode, hasValue: value.length > 0, value: value[0] };
  ctx.addIssue({ code: 'custom', path, message, params, input: value[0] });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every `minimum` key is in `desired`, and not above it. Tolerates malformed input. */
function checkMinimum(resources: unknown, ctx: Ctx): void {
  if (!isRecord(resources)) return;
  const { desired, minimum } = resources;
  if (!isRecord(desired) || !isRecord(minimum)) return;
  const names = Object.keys(desired);
  for (const [name, least] of Object.entries(minimum)) {
    if (!Object.hasOwn(desired, name)) {
      const has = names.length === 0 ? 'desired is empty' : `desired has ${names.join(', ')}`;
      addIssue(
        ctx,
        'minimum_not_desired',
        ['minimum', name],
        `${JSON.stringify(name)} is not in desired (${has})`,
        least,
      );
      continue;
    }
    const want = desired[name];
    if (typeof least === 'number' && typeof want === 'number' && least > want) {
      addIssue(
        ctx,
        'minimum_above_desired',
        ['minimum', name],
        `must not exceed desired (${want}) (got ${least})`,
        least,
      );
    }
  }
}

const resourcesShape = {
  desired: resourceVector.describe('The allocation the stage would like.'),
  minimum: resourceVector
    .optional()
    .describe('The least it accepts; every key is in desired and not above it. Defaults to desired.'),
  waitForLargerNodes: z.boolean({ error: 'must be a boolean' }).optional().meta({
    description:
      'Keep waiting when the minimum exceeds every registered node (a larger node may join); otherwise such a request fails at once.',
    default: false,
  }),
};

const resources = z
  .strictObject(resourcesShape, { error: 'must be an object with desired (and optionally minimum)' })
  .superRefine(checkMinimum, { when: () => true })
  .describe('What the stage asks for: desired is what it suggests, minimum the least it accepts.');

/** `by: items` needs `field`, `by: count` needs `count`; the other mode's fields are not allowed. */
function checkShard(shard: unknown, ctx: Ctx): void {
  if (!isRecord(shard)) return;
  const mode = shard['by'];
  if (mode !== 'items' && mode !== 'count') return;
  const needs = mode === 'items' ? 'field' : 'count';
  if (shard[needs] === undefined) addIssue(ctx, 'required', [needs], `is required when by is "${mode}"`);
  const others = mode === 'items' ? ['count'] : ['field', 'minItemsPerShard'];
  for (const other of others) {
    if (shard[other] !== undefined) {
      addIssue(
        ctx,
        'not_allowed',
        [other],
        `only applies when by is "${mode === 'items' ? 'count' : 'items'}" (got ${describeValue(shard[other])})`,
        shard[other],
      );
    }
  }
}

const shardShape = {
  by: z
    .enum(['items', 'count'], { error: 'must be "items" or "count"' })
    .describe('items: split the array at input[field] into contiguous slices; count: run count times.'),
  field: text(
    `must be a non-empty string of at most ${MAX_HANDLER_NAME_LENGTH} characters`,
    MAX_HANDLER_NAME_LENGTH,
  )
    .optional()
    .describe('The input field holding the array (by: items).'),
  count: integer(1, MAX_SHARDS).optional().describe(`Number of runs (by: count), 1–${MAX_SHARDS}.`),
  maxShards: integer(1, MAX_SHARDS)
    .optional()
    .describe(
      `Upper bound on the number of shards, 1–${MAX_SHARDS}. by: count runs count shards (maxShards is then ignored); by: items defaults to 16.`,
    ),
  minItemsPerShard: integer(1, MAX_ITEMS_PER_SHARD)
    .optional()
    .describe('Smallest slice worth a shard (by: items).'),
  reassemble: text(
    `must be a non-empty string of at most ${MAX_HANDLER_NAME_LENGTH} characters (a reducer handler name)`,
    MAX_HANDLER_NAME_LENGTH,
  ).describe('Reducer handler name: qm.concat, qm.sum, qm.merge, or a registered handler.'),
  partial: z.enum(['allow', 'forbid'], { error: 'must be "allow" or "forbid"' }).optional().meta({
    description: 'Whether a partial result is acceptable when some shards fail.',
    default: 'forbid',
  }),
  always: z
    .boolean({ error: 'must be a boolean' })
    .optional()
    .meta({ description: 'Shard up front even when the stage fits (by: count).', default: false }),
  resources: resources
    .optional()
    .describe("Per-shard resources; defaults to the stage's vector scaled by share."),
};

const shard = z
  .strictObject(shardShape, { error: 'must be an object' })
  .superRefine(checkShard, { when: () => true })
  .describe('How the stage splits into shards when its resources cannot be met (or always, with always).');

const retryShape = {
  maximumAttempts: integer(0, MAX_ATTEMPTS)
    .optional()
    .meta({
      description: `Attempts including the first, at most ${MAX_ATTEMPTS}; 0 means unlimited.`,
      default: 3,
    }),
  initialIntervalSeconds: seconds()
    .optional()
    .meta({ description: 'First retry delay in seconds.', default: 1 }),
  backoffCoefficient: z
    .number({ error: `must be a number from 1 to ${MAX_BACKOFF_COEFFICIENT}` })
    .min(1, { error: `must be a number from 1 to ${MAX_BACKOFF_COEFFICIENT}` })
    .max(MAX_BACKOFF_COEFFICIENT, { error: `must be a number from 1 to ${MAX_BACKOFF_COEFFICIENT}` })
    .optional()
    .meta({ description: 'Delay multiplier between retries.', default: 2 }),
  maximumIntervalSeconds: seconds()
    .optional()
    .meta({ description: 'Largest delay between retries in seconds.', default: 30 }),
};

const retry = z
  .strictObject(retryShape, { error: 'must be an object' })
  .describe("Retry policy for the stage's handler.");

/**
 * Where a value is not plain JSON (a function, `undefined` in an array, a class instance, a cycle, a
 * non-finite number, nesting deeper than {@link MAX_INPUT_DEPTH}): the relative path and what was found,
 * or `undefined` when it is JSON. Never throws.
 */
export function findNonJson(
  value: unknown,
  path: Array<string | number>,
  ancestors: Set<object>,
): { path: Array<string | number>; found: string; value: unknown } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : { path, found: String(value), value };
  }
  if (typeof value !== 'object') return { path, found: describeValue(value), value };
  if (ancestors.has(value)) return { path, found: 'a cyclic reference', value };
  if (ancestors.size >= MAX_INPUT_DEPTH)
    return { path, found: `nesting deeper than ${MAX_INPUT_DEPTH} levels`, value };
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return { path: [...path, i], found: 'an empty array slot', value: undefined };
        const element: unknown = value[i];
        if (element === undefined) return { path: [...path, i], found: 'undefined', value: undefined };
        const bad = findNonJson(element, [...path, i], ancestors);
        if (bad) return bad;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return { path, found: `an instance of ${typeof name === 'string' ? name : 'a class'}`, value };
    }
    for (const [key, field] of Object.entries(value)) {
      // An `undefined` property is dropped by JSON, as if it were absent: not an error.
      if (field === undefined) continue;
      const bad = findNonJson(field, [...path, key], ancestors);
      if (bad) return bad;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

const jsonValue = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === undefined) return; // absent: defaults to {}
    const bad = findNonJson(value, [], new Set());
    if (bad) addIssue(ctx, 'not_json', bad.path, `must be JSON (found ${bad.found})`, bad.value);
  })
  .describe('Handler input (any JSON value).')
  .meta({ default: {} });

const stageShape = {
  id: z
    .string({ error: 'must be a string of 1–64 letters, digits, "_", "." or "-"' })
    .regex(STAGE_ID_PATTERN, { error: 'must be 1–64 letters, digits, "_", "." or "-"' })
    .describe('Unique within the pipeline: [A-Za-z0-9_.-]{1,64}.'),
  handler: text(
    `must be a non-empty string of at most ${MAX_HANDLER_NAME_LENGTH} characters (a handler name)`,
    MAX_HANDLER_NAME_LENGTH,
  ).describe('The registered handler to run (qm.sleep, or one defined with defineStage).'),
  priority: integer(1, 10).describe('Integer 1 (lowest) – 10 (highest).'),
  dependsOn: z
    .array(z.string({ error: 'must be a stage id (a string)' }), { error: 'must be an array of stage ids' })
    .max(MAX_STAGES, { error: `must be an array of at most ${MAX_STAGES} stage ids` })
    .optional()
    .meta({ description: 'Stages that must complete first.', default: [] }),
  input: jsonValue.optional(),
  resources: resources.optional().describe('Resources the stage needs; none means it is admitted at once.'),
  shard: shard.optional(),
  retry: retry.optional(),
  timeoutSeconds: seconds()
    .optional()
    .meta({ description: 'Time limit of one attempt, in seconds (at most 7 days).', default: 600 }),
  deadlineSeconds: seconds()
    .optional()
    .describe('Deadline for the whole stage (all attempts and shards), in seconds.'),
  expectedSeconds: seconds()
    .optional()
    .describe(
      'How long the stage usually runs at its desired allocation, in seconds (at most 7 days); used for start-time estimates; never enforced.',
    ),
};

/** `by: items` splits `input[field]`, which must then be an array in the stage's own input. */
function checkShardItems(stage: unknown, ctx: Ctx): void {
  if (!isRecord(stage) || !isRecord(stage['shard'])) return;
  const { by, field } = stage['shard'];
  if (by !== 'items' || typeof field !== 'string') return;
  const input = stage['input'];
  const items = isRecord(input) && Object.hasOwn(input, field) ? input[field] : undefined;
  if (Array.isArray(items)) return;
  const why = `must be an array: shard.by is "items" with field ${JSON.stringify(field)}`;
  if (items === undefined) addIssue(ctx, 'required', ['input', field], why);
  else addIssue(ctx, 'invalid_type', ['input', field], `${why} (got ${describeValue(items)})`, items);
}

const stage = z
  .strictObject(stageShape, { error: 'must be an object (a stage)' })
  .superRefine(checkShardItems, { when: () => true })
  .describe('One stage of a pipeline.');

const pipelineShape = {
  name: text(`must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`, MAX_NAME_LENGTH).describe(
    'Pipeline name (shown in the Web UI and used by `qm submit NAME`).',
  ),
  description: z
    .string({ error: `must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters` })
    .max(MAX_DESCRIPTION_LENGTH, {
      error: `must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters`,
    })
    .optional()
    .describe('Free-form description.'),
  importance: z
    .number({ error: 'must be a number 0–10' })
    .min(0, { error: 'must be a number 0–10' })
    .max(10, { error: 'must be a number 0–10' })
    .optional()
    .meta({ description: "Base importance added to every stage's score; boosts add to it.", default: 0 }),
  stages: z
    .array(stage, { error: 'must be an array of 1–1,000 stages' })
    .min(1, { error: 'must be an array of 1–1,000 stages' })
    .max(MAX_STAGES, { error: 'must be an array of 1–1,000 stages' })
    .describe('The stages (1 – 1,000), a DAG through dependsOn.'),
};

/**
 * The zod schema of a `PipelineDefinition`, including the graph rules (duplicate ids, unknown
 * or self dependencies, cycles). Parse with `{ reportInput: true }` to keep bad values on issues.
 * Its output is not normalised; `validateDefinition` does that.
 */
export const pipelineDefinitionSchema = z
  .strictObject(pipelineShape, { error: 'must be an object (a pipeline definition)' })
  .superRefine(
    (definition: unknown, ctx) => {
      if (!isRecord(definition)) return;
      for (const issue of checkGraph(definition['stages'], ['stages'])) {
        const params: CustomIssueParams = {
          qmCode: issue.code,
          hasValue: 'value' in issue,
          value: issue.value,
        };
        ctx.addIssue({
          code: 'custom',
          path: issue.path,
          message: issue.message,
          params,
          input: issue.value,
        });
      }
    },
    { when: () => true },
  )
  .meta({ title: 'Quartermaster pipeline', description: 'A named DAG of stages run by Quartermaster.' });

/** The field names each object of a definition accepts, for did-you-mean hints. */
export const KNOWN_FIELDS = {
  pipeline: Object.keys(pipelineShape),
  stage: Object.keys(stageShape),
  resources: Object.keys(resourcesShape),
  shard: Object.keys(shardShape),
  retry: Object.keys(retryShape),
} as const satisfies Record<string, readonly string[]>;

/**
 * The fields accepted by the object at `path` in a definition (`[]` → the pipeline,
 * `['stages', 2]` → a stage, `[…, 'shard']` → a shard spec…). Never throws; `[]` for an unknown path.
 */
export function knownFieldsAt(path: ReadonlyArray<string | number>): readonly string[] {
  if (path.length === 0) return KNOWN_FIELDS.pipeline;
  const last = path[path.length - 1];
  if (typeof last === 'number' && path.length === 2 && path[0] === 'stages') return KNOWN_FIELDS.stage;
  if (last === 'resources') return KNOWN_FIELDS.resources;
  if (last === 'shard') return KNOWN_FIELDS.shard;
  if (last === 'retry') return KNOWN_FIELDS.retry;
  return [];
}
