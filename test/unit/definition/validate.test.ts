import { InvalidDefinitionError } from '../../../src/definition/errors';
import { MAX_STAGES } from '../../../src/definition/schema';
import {
  type DefinitionIssue,
  assertValidDefinition,
  formatIssue,
  validateDefinition,
} from '../../../src/definition/validate';
import { def, example, stage } from './fixtures';

function issuesOf(input: unknown): DefinitionIssue[] {
  const result = validateDefinition(input);
  if (result.ok)
    throw new Error(`expected issues, got a valid definition: ${JSON.stringify(result.definition)}`);
  return result.issues;
}

const withResources = (resources: unknown): unknown => def(stage('a', { resources }));
const withShard = (shard: unknown): unknown => def(stage('a', { input: { xs: [1] }, shard }));
const shardItems = { by: 'items', field: 'xs', maxShards: 4, reassemble: 'qm.concat' };
const withRetry = (retry: unknown): unknown => def(stage('a', { retry }));
const manyStages = (n: number): unknown => def(...Array.from({ length: n }, (_, i) => stage(`s${i}`)));

// [what is wrong, the definition, expected code, expected pathText]
const malformed: Array<[string, unknown, string, string]> = [
  ['root is a string', 'nightly', 'invalid_type', ''],
  ['root is null', null, 'invalid_type', ''],
  ['root is an array', [], 'invalid_type', ''],
  ['name missing', { stages: [stage('a')] }, 'required', 'name'],
  ['name empty', { name: '', stages: [stage('a')] }, 'too_small', 'name'],
  ['name blank', { name: '   ', stages: [stage('a')] }, 'invalid_format', 'name'],
  ['name too long', { name: 'x'.repeat(201), stages: [stage('a')] }, 'too_big', 'name'],
  ['name a number', { name: 5, stages: [stage('a')] }, 'invalid_type', 'name'],
  ['description a number', { ...def(stage('a')), description: 5 }, 'invalid_type', 'description'],
  ['importance above 10', { ...def(stage('a')), importance: 11 }, 'too_big', 'importance'],
  ['importance negative', { ...def(stage('a')), importance: -1 }, 'too_small', 'importance'],
  ['importance a string', { ...def(stage('a')), importance: '3' }, 'invalid_type', 'importance'],
  ['importance infinite', { ...def(stage('a')), importance: Infinity }, 'invalid_type', 'importance'],
  ['unknown root field', { ...def(stage('a')), stage: [] }, 'unknown_field', 'stage'],
  ['stages missing', { name: 'p' }, 'required', 'stages'],
  ['stages empty', def(), 'too_small', 'stages'],
  ['too many stages', manyStages(MAX_STAGES + 1), 'too_big', 'stages'],
  ['stages an object', { name: 'p', stages: {} }, 'invalid_type', 'stages'],
  ['stage a number', def(stage('a'), 5), 'invalid_type', 'stages[1]'],
  ['stage id missing', def({ handler: 'h', priority: 1 }), 'required', 'stages[0].id'],
  ['stage id with a space', def(stage('a b')), 'invalid_format', 'stages[0].id'],
  ['stage id too long', def(stage('x'.repeat(65))), 'invalid_format', 'stages[0].id'],
  ['stage id empty', def(stage('')), 'invalid_format', 'stages[0].id'],
  ['stage id a number', def({ id: 7, handler: 'h', priority: 1 }), 'invalid_type', 'stages[0].id'],
  ['duplicate stage id', def(stage('a'), stage('b'), stage('a')), 'duplicate_id', 'stages[2].id'],
  ['duplicate __proto__ id', def(stage('__proto__'), stage('__proto__')), 'duplicate_id', 'stages[1].id'],
  ['handler missing', def({ id: 'a', priority: 1 }), 'required', 'stages[0].handler'],
  ['handler empty', def(stage('a', { handler: '' })), 'too_small', 'stages[0].handler'],
  ['priority missing', def({ id: 'a', handler: 'h' }), 'required', 'stages[0].priority'],
  ['priority 11', def(stage('a'), stage('b', { priority: 11 })), 'too_big', 'stages[1].priority'],
  ['priority 0', def(stage('a', { priority: 0 })), 'too_small', 'stages[0].priority'],
  ['priority fractional', def(stage('a', { priority: 2.5 })), 'not_integer', 'stages[0].priority'],
  ['priority a string', def(stage('a', { priority: '5' })), 'invalid_type', 'stages[0].priority'],
  [
    'dependsOn a string',
    def(stage('a'), stage('b', { dependsOn: 'a' })),
    'invalid_type',
    'stages[1].dependsOn',
  ],
  [
    'dependsOn a number',
    def(stage('a'), stage('b', { dependsOn: [1] })),
    'invalid_type',
    'stages[1].dependsOn[0]',
  ],
  [
    'unknown dependency',
    def(stage('a'), stage('b', { dependsOn: ['zz'] })),
    'unknown_dependency',
    'stages[1].dependsOn[0]',
  ],
  ['self dependency', def(stage('a', { dependsOn: ['a'] })), 'self_dependency', 'stages[0].dependsOn[0]'],
  [
    'dependency twice',
    def(stage('a'), stage('b', { dependsOn: ['a', 'a'] })),
    'duplicate_dependency',
    'stages[1].dependsOn[1]',
  ],
  [
    'two-stage cycle',
    def(stage('a', { dependsOn: ['b'] }), stage('b', { dependsOn: ['a'] })),
    'dependency_cycle',
    'stages[0].dependsOn',
  ],
  [
    'unknown stage field',
    def(stage('a'), stage('b', { dependson: ['a'] })),
    'unknown_field',
    'stages[1].dependson',
  ],
  ['resources without desired', withResources({ minimum: {} }), 'required', 'stages[0].resources.desired'],
  ['resources a number', withResources(5), 'invalid_type', 'stages[0].resources'],
  [
    'negative quantity',
    withResources({ desired: { cpu: -1 } }),
    'too_small',
    'stages[0].resources.desired.cpu',
  ],
  [
    'quantity a string',
    withResources({ desired: { cpu: 'two' } }),
    'invalid_type',
    'stages[0].resources.desired.cpu',
  ],
  [
    'bad resource name',
    withResources({ desired: { '9gpu': 1 } }),
    'invalid_format',
    'stages[0].resources.desired["9gpu"]',
  ],
  [
    'minimum not in desired',
    withResources({ desired: { cpu: 2 }, minimum: { gpu: 1 } }),
    'minimum_not_desired',
    'stages[0].resources.minimum.gpu',
  ],
  [
    'minimum above desired',
    withResources({ desired: { cpu: 2 }, minimum: { cpu: 3 } }),
    'minimum_above_desired',
    'stages[0].resources.minimum.cpu',
  ],
  [
    'custom pool not desired',
    withResources({ desired: {}, minimum: { 'db-connections': 1 } }),
    'minimum_not_desired',
    'stages[0].resources.minimum["db-connections"]',
  ],
  [
    'unknown resources field',
    withResources({ desired: {}, min: {} }),
    'unknown_field',
    'stages[0].resources.min',
  ],
  ['shard by rows', withShard({ ...shardItems, by: 'rows' }), 'invalid_value', 'stages[0].shard.by'],
  [
    'shard items without field',
    withShard({ by: 'items', maxShards: 2, reassemble: 'r' }),
    'required',
    'stages[0].shard.field',
  ],
  [
    'shard count without count',
    withShard({ by: 'count', maxShards: 2, reassemble: 'r' }),
    'required',
    'stages[0].shard.count',
  ],
  [
    'shard count 0',
    withShard({ by: 'count', count: 0, maxShards: 2, reassemble: 'r' }),
    'too_small',
    'stages[0].shard.count',
  ],
  ['shard count with items', withShard({ ...shardItems, count: 3 }), 'not_allowed', 'stages[0].shard.count'],
  [
    'shard count 1e9 (once killed every worker)',
    withShard({ by: 'count', count: 1e9, always: true, reassemble: 'r' }),
    'too_big',
    'stages[0].shard.count',
  ],
  ['maxShards 257', withShard({ ...shardItems, maxShards: 257 }), 'too_big', 'stages[0].shard.maxShards'],
  [
    'shard items field missing from input',
    def(stage('a', { shard: shardItems })),
    'required',
    'stages[0].input.xs',
  ],
  [
    'shard items field not an array',
    def(stage('a', { input: { xs: 'abc' }, shard: shardItems })),
    'invalid_type',
    'stages[0].input.xs',
  ],
  [
    'initialIntervalSeconds 1e308 (endless workflow-task failures before)',
    withRetry({ initialIntervalSeconds: 1e308 }),
    'too_big',
    'stages[0].retry.initialIntervalSeconds',
  ],
  [
    'timeoutSeconds 1e-9 ("Invalid duration string" before)',
    def(stage('a', { timeoutSeconds: 1e-9 })),
    'too_small',
    'stages[0].timeoutSeconds',
  ],
  [
    'deadlineSeconds over 7 days',
    def(stage('a', { deadlineSeconds: 604_801 })),
    'too_big',
    'stages[0].deadlineSeconds',
  ],
  [
    'backoffCoefficient 1e9',
    withRetry({ backoffCoefficient: 1e9 }),
    'too_big',
    'stages[0].retry.backoffCoefficient',
  ],
  ['maximumAttempts 1e9', withRetry({ maximumAttempts: 1e9 }), 'too_big', 'stages[0].retry.maximumAttempts'],
  [
    'desired cpu 1e308 (waited for ever before)',
    withResources({ desired: { cpu: 1e308 } }),
    'too_big',
    'stages[0].resources.desired.cpu',
  ],
  [
    'too many resources in a vector',
    withResources({ desired: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, 1])) }),
    'invalid_value',
    'stages[0].resources.desired',
  ],
  ['handler name too long', def(stage('a', { handler: 'h'.repeat(201) })), 'too_big', 'stages[0].handler'],
  [
    'maxShards fractional',
    withShard({ ...shardItems, maxShards: 1.5 }),
    'not_integer',
    'stages[0].shard.maxShards',
  ],
  [
    'minItemsPerShard 0',
    withShard({ ...shardItems, minItemsPerShard: 0 }),
    'too_small',
    'stages[0].shard.minItemsPerShard',
  ],
  [
    'reassemble missing',
    withShard({ by: 'items', field: 'xs', maxShards: 2 }),
    'required',
    'stages[0].shard.reassemble',
  ],
  [
    'partial maybe',
    withShard({ ...shardItems, partial: 'maybe' }),
    'invalid_value',
    'stages[0].shard.partial',
  ],
  ['always a string', withShard({ ...shardItems, always: 'yes' }), 'invalid_type', 'stages[0].shard.always'],
  [
    'shard minimum above desired',
    withShard({ ...shardItems, resources: { desired: { cpu: 1 }, minimum: { cpu: 2 } } }),
    'minimum_above_desired',
    'stages[0].shard.resources.minimum.cpu',
  ],
  [
    'maximumAttempts negative',
    withRetry({ maximumAttempts: -1 }),
    'too_small',
    'stages[0].retry.maximumAttempts',
  ],
  [
    'initialIntervalSeconds 0',
    withRetry({ initialIntervalSeconds: 0 }),
    'too_small',
    'stages[0].retry.initialIntervalSeconds',
  ],
  [
    'backoffCoefficient below 1',
    withRetry({ backoffCoefficient: 0.5 }),
    'too_small',
    'stages[0].retry.backoffCoefficient',
  ],
  [
    'maximumIntervalSeconds negative',
    withRetry({ maximumIntervalSeconds: -1 }),
    'too_small',
    'stages[0].retry.maximumIntervalSeconds',
  ],
  ['unknown retry field', withRetry({ maxAttempts: 3 }), 'unknown_field', 'stages[0].retry.maxAttempts'],
  ['timeoutSeconds 0', def(stage('a', { timeoutSeconds: 0 })), 'too_small', 'stages[0].timeoutSeconds'],
  [
    'timeoutSeconds over 7 days',
    def(stage('a', { timeoutSeconds: 604_801 })),
    'too_big',
    'stages[0].timeoutSeconds',
  ],
  [
    'deadlineSeconds negative',
    def(stage('a', { deadlineSeconds: -5 })),
    'too_small',
    'stages[0].deadlineSeconds',
  ],
  ['expectedSeconds 0', def(stage('a', { expectedSeconds: 0 })), 'too_small', 'stages[0].expectedSeconds'],
  [
    'expectedSeconds over 7 days',
    def(stage('a', { expectedSeconds: 604_801 })),
    'too_big',
    'stages[0].expectedSeconds',
  ],
  [
    'expectedSeconds infinite',
    def(stage('a', { expectedSeconds: Infinity })),
    'invalid_type',
    'stages[0].expectedSeconds',
  ],
  [
    'expectedSeconds not a number',
    def(stage('a', { expectedSeconds: '30' })),
    'invalid_type',
    'stages[0].expectedSeconds',
  ],
  ['input holds a function', def(stage('a', { input: { fn: () => 1 } })), 'not_json', 'stages[0].input.fn'],
  ['input holds NaN', def(stage('a', { input: { xs: [1, NaN] } })), 'not_json', 'stages[0].input.xs[1]'],
  ['input is a Date', def(stage('a', { input: new Date(0) })), 'not_json', 'stages[0].input'],
];

describe('validateDefinition rejects malformed definitions', () => {
  it('has at least 40 cases', () => expect(malformed.length).toBeGreaterThanOrEqual(40));

  it.each(malformed)('%s', (_what, input, code, pathText) => {
    const issues = issuesOf(input);
    expect(issues.map((issue) => ({ code: issue.code, pathText: issue.pathText }))).toEqual([
      { code, pathText },
    ]);
  });
});

describe('issue details', () => {
  it('names the path and the bad value', () => {
    const [issue] = issuesOf(def(stage('a'), stage('b', { priority: 11 })));
    expect(issue).toEqual({
      code: 'too_big',
      path: ['stages', 1, 'priority'],
      pathText: 'stages[1].priority',
      message: 'must be an integer 1–10 (got 11)',
      value: 11,
    });
    expect(formatIssue(issue as DefinitionIssue)).toBe(
      'stages[1].priority: must be an integer 1–10 (got 11)',
    );
  });

  it('has no value for a missing field', () => {
    const [issue] = issuesOf(def({ id: 'a', handler: 'h' }));
    expect(issue).not.toHaveProperty('value');
    expect(issue?.message).toBe('is required (an integer 1–10)');
  });

  it('prints the root as (root)', () => {
    const [issue] = issuesOf('nightly');
    expect(issue?.path).toEqual([]);
    expect(formatIssue(issue as DefinitionIssue)).toBe(
      '(root): must be an object (a pipeline definition) (got "nightly")',
    );
  });

  it('reports the cycle path', () => {
    const issues = issuesOf(
      def(
        stage('a', { dependsOn: ['b'] }),
        stage('b', { dependsOn: ['c'] }),
        stage('c', { dependsOn: ['a'] }),
      ),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.pathText).toBe('stages[0].dependsOn');
    expect(issues[0]?.message).toBe('dependency cycle: a → b → c → a');
  });

  it('reports every independent cycle once', () => {
    const issues = issuesOf(
      def(
        stage('x'),
        stage('a', { dependsOn: ['b'] }),
        stage('b', { dependsOn: ['a', 'x'] }),
        stage('c', { dependsOn: ['d'] }),
        stage('d', { dependsOn: ['c'] }),
      ),
    );
    expect(issues.map(formatIssue)).toEqual([
      'stages[1].dependsOn: dependency cycle: a → b → a',
      'stages[3].dependsOn: dependency cycle: c → d → c',
    ]);
  });

  it('suggests the field meant', () => {
    const cases: Array<[unknown, string]> = [
      [
        def(stage('a'), stage('b', { dependson: ['a'] })),
        'unknown field "dependson" — did you mean "dependsOn"?',
      ],
      [def(stage('a', { prority: 3 })), 'unknown field "prority" — did you mean "priority"?'],
      [def(stage('a', { timeout: 3 })), 'unknown field "timeout" — did you mean "timeoutSeconds"?'],
      [withRetry({ maxAttempts: 3 }), 'unknown field "maxAttempts" — did you mean "maximumAttempts"?'],
      [withResources({ desired: {}, min: {} }), 'unknown field "min" — did you mean "minimum"?'],
      [{ ...def(stage('a')), Name: 'x' }, 'unknown field "Name" — did you mean "name"?'],
    ];
    for (const [input, message] of cases) {
      const issues = issuesOf(input).filter((issue) => issue.code === 'unknown_field');
      expect(issues.map((issue) => issue.message)).toEqual(expect.arrayContaining([message]));
    }
  });

  it('lists the expected fields when nothing is close', () => {
    const [issue] = issuesOf(withRetry({ zzzzzz: 1 }));
    expect(issue?.message).toBe(
      'unknown field "zzzzzz" (expected one of: maximumAttempts, initialIntervalSeconds, backoffCoefficient, maximumIntervalSeconds)',
    );
    expect(issue?.value).toBe(1);
  });

  it('suggests the stage meant by an unknown dependency', () => {
    const [issue] = issuesOf(def(stage('extract'), stage('b', { dependsOn: ['extrat'] })));
    expect(issue?.message).toBe('"extrat" is not a stage of this pipeline — did you mean "extract"?');
  });

  it('reports every issue, pipeline first, then by stage', () => {
    const issues = issuesOf({
      name: '',
      stages: [stage('a', { priority: 0, dependsOn: ['nope'] }), stage('a'), stage('c', { priority: 1.5 })],
      extra: true,
    });
    expect(issues.map((issue) => `${issue.code} ${issue.pathText}`)).toEqual([
      'too_small name',
      'unknown_field extra',
      'too_small stages[0].priority',
      'unknown_dependency stages[0].dependsOn[0]',
      'duplicate_id stages[1].id',
      'not_integer stages[2].priority',
    ]);
  });

  it('quotes path keys that are not identifiers', () => {
    const [issue] = issuesOf(withResources({ desired: { 'db-connections': -2 } }));
    expect(formatIssue(issue as DefinitionIssue)).toBe(
      'stages[0].resources.desired["db-connections"]: must be a finite number ≥ 0 and at most 1000000000 (got -2)',
    );
  });
});

describe('validateDefinition accepts and normalises valid definitions', () => {
  it('accepts the example and fills in defaults', () => {
    const result = validateDefinition(example());
    expect(result).toEqual({
      ok: true,
      definition: {
        name: 'nightly-etl',
        importance: 0,
        stages: [
          {
            id: 'extract',
            handler: 'qm.sleep',
            priority: 7,
            dependsOn: [],
            input: { ms: 200 },
            resources: { desired: { cpu: 2, memoryMb: 1024 }, minimum: { cpu: 1, memoryMb: 512 } },
          },
          {
            id: 'total',
            handler: 'qm.sum',
            priority: 9,
            dependsOn: ['extract'],
            input: { numbers: [1, 2, 3] },
            shard: { by: 'items', field: 'numbers', maxShards: 8, reassemble: 'qm.sum', partial: 'forbid' },
            retry: { maximumAttempts: 3 },
            timeoutSeconds: 60,
          },
        ],
      },
    });
  });

  it('defaults maxShards: count for by "count", 16 for by "items"', () => {
    const byCount = assertValidDefinition(
      def(stage('a', { shard: { by: 'count', count: 5, reassemble: 'qm.concat' } })),
    );
    expect(byCount.stages[0]?.shard?.maxShards).toBe(5);
    const byItems = assertValidDefinition(
      def(
        stage('a', { input: { xs: [1, 2] }, shard: { by: 'items', field: 'xs', reassemble: 'qm.concat' } }),
      ),
    );
    expect(byItems.stages[0]?.shard?.maxShards).toBe(16);
  });

  it('keeps expectedSeconds and names a bad one with its value', () => {
    const definition = assertValidDefinition(def(stage('a', { expectedSeconds: 12.5 })));
    expect(definition.stages[0]?.expectedSeconds).toBe(12.5);
    const [issue] = issuesOf(def(stage('a', { expectedSeconds: -1 })));
    expect(formatIssue(issue as DefinitionIssue)).toBe(
      'stages[0].expectedSeconds: must be a number of seconds from 0.001 to 604800 (7 days) (got -1)',
    );
  });

  it('fills importance, dependsOn, input and minimum when absent', () => {
    const definition = assertValidDefinition(
      def(stage('a', { resources: { desired: { cpu: 2, 'db-connections': 1 } } })),
    );
    expect(definition.importance).toBe(0);
    const [only] = definition.stages;
    expect(only?.dependsOn).toEqual([]);
    expect(only?.input).toEqual({});
    expect(only?.resources?.minimum).toEqual({ cpu: 2, 'db-connections': 1 });
    expect(only?.resources?.minimum).not.toBe(only?.resources?.desired);
  });

  it('fills shard defaults, including per-shard minimum', () => {
    const definition = assertValidDefinition(
      def(
        stage('a', {
          shard: {
            by: 'count',
            count: 4,
            maxShards: 4,
            reassemble: 'qm.concat',
            always: true,
            resources: { desired: { cpu: 1 } },
          },
        }),
      ),
    );
    expect(definition.stages[0]?.shard).toEqual({
      by: 'count',
      count: 4,
      maxShards: 4,
      reassemble: 'qm.concat',
      always: true,
      partial: 'forbid',
      resources: { desired: { cpu: 1 }, minimum: { cpu: 1 } },
    });
  });

  it('is idempotent', () => {
    const once = assertValidDefinition(example());
    expect(assertValidDefinition(once)).toEqual(once);
  });

  it('neither modifies nor shares the input', () => {
    const input = example();
    const snapshot = JSON.parse(JSON.stringify(input)) as unknown;
    const definition = assertValidDefinition(input);
    expect(input).toEqual(snapshot);
    expect(definition.stages[0]?.input).not.toBe(input.stages[0]?.input);
    expect(definition.stages[0]?.resources?.desired).not.toBe(input.stages[0]?.resources?.desired);
  });

  it('treats explicit undefined as absent', () => {
    const definition = assertValidDefinition({
      name: 'p',
      description: undefined,
      stages: [
        stage('a', {
          shard: undefined,
          retry: { maximumAttempts: undefined },
          input: { keep: 1, drop: undefined },
        }),
      ],
    });
    expect(definition).toEqual({
      name: 'p',
      importance: 0,
      stages: [{ id: 'a', handler: 'qm.sleep', priority: 5, dependsOn: [], input: { keep: 1 }, retry: {} }],
    });
    expect(Object.keys(definition.stages[0] ?? {})).not.toContain('shard');
  });

  it('accepts any JSON input, stage ids like __proto__ and names up to 200 characters', () => {
    const input = { s: 'x', n: -1.5, b: false, z: null, a: [[], {}], deep: { deeper: [1, { x: 'y' }] } };
    const definition = assertValidDefinition({
      name: 'x'.repeat(200),
      importance: 10,
      stages: [
        stage('__proto__', { input }),
        stage('constructor', { dependsOn: ['__proto__'], input: 'text' }),
      ],
    });
    expect(definition.stages[0]?.input).toEqual(input);
    expect(definition.stages[1]?.input).toBe('text');
  });

  it('accepts 1,000 stages in a chain', () => {
    const stages = Array.from({ length: MAX_STAGES }, (_, i) =>
      stage(`s${i}`, i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    );
    expect(validateDefinition(def(...stages)).ok).toBe(true);
  });

  it('reports a 1,000-stage cycle without overflowing', () => {
    const stages = Array.from({ length: MAX_STAGES }, (_, i) =>
      stage(`s${i}`, { dependsOn: [`s${(i + 1) % MAX_STAGES}`] }),
    );
    const [issue] = issuesOf(def(...stages));
    expect(issue?.code).toBe('dependency_cycle');
    expect(issue?.message.split(' → ')).toHaveLength(MAX_STAGES + 1);
  });
});

describe('assertValidDefinition', () => {
  it('throws InvalidDefinitionError listing the issues one per line', () => {
    let thrown: unknown;
    try {
      assertValidDefinition(def(stage('a', { priority: 11 }), stage('a')));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidDefinitionError);
    const error = thrown as InvalidDefinitionError;
    expect(error.name).toBe('InvalidDefinitionError');
    expect(error.issues.map((issue) => issue.code)).toEqual(['too_big', 'duplicate_id']);
    expect(error.message).toBe(
      'stages[0].priority: must be an integer 1–10 (got 11)\nstages[1].id: duplicate stage id "a" (first used at stages[0])',
    );
  });
});
