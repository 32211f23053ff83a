/**
 * Seeded fuzz of the boundary a user touches: 10,000+ generated `pipelineWorkflow` arguments (hostile
 * numbers, wrong types, unknown keys, huge counts, bare definitions…). The validator must never throw and
 * must only return typed issues; every argument it accepts must be plannable in bounded time: run state,
 * stage table, shard plan (request spec, fan-out count, every shard task), every duration a valid Temporal
 * duration and every shard argument valid.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { MAX_SHARDS } from '../../../src/definition/limits';
import type { DefinitionIssueCode } from '../../../src/definition/issues';
import type { JsonValue } from '../../../src/handlers/types';
import { PipelineRun } from '../../../src/pipeline/run-state';
import { pipelineArgsFailure } from '../../../src/pipeline/args-failure';
import { validatePipelineArgs } from '../../../src/pipeline/workflow-args';
import { fanOutCount, shardRequestSpec, shardTasks, shardsUpFront } from '../../../src/sharding/fan-out';
import { firstFitOn, planShards } from '../../../src/sharding/plan';
import { shardArgsIssues } from '../../../src/sharding/shard-args';
import { seededRandom } from '../../../src/simulator/seeded-random';

const CASES = 10_000;
const SEED = 0x51a7e;

const CODES: readonly DefinitionIssueCode[] = [
  'required',
  'invalid_type',
  'not_integer',
  'too_small',
  'too_big',
  'invalid_format',
  'invalid_value',
  'unknown_field',
  'not_allowed',
  'not_json',
  'minimum_not_desired',
  'minimum_above_desired',
  'duplicate_id',
  'unknown_dependency',
  'self_dependency',
  'duplicate_dependency',
  'dependency_cycle',
];

const HOSTILE_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.5,
  1e-9,
  0.001,
  1e308,
  -1e308,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  1e9,
  1e9 + 1,
  255,
  256,
  257,
  10,
  11,
  3,
  604_800,
  604_801,
  100,
  101,
];
const HOSTILE_STRINGS = ['', ' ', 'a', 'high', '__proto__', 'constructor', 'x'.repeat(300), 'qm.echo', 'ü✓'];

function generator(random: () => number) {
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number): boolean => random() < p;

  const any = (depth = 0): unknown => {
    switch (int(depth > 2 ? 4 : 7)) {
      case 0:
        return null;
      case 1:
        return chance(0.5);
      case 2:
        return pick(HOSTILE_NUMBERS);
      case 3:
        return pick(HOSTILE_STRINGS);
      case 4:
        return undefined;
      case 5:
        return Array.from({ length: int(4) }, () => any(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: int(4) }, () => [pick(HOSTILE_STRINGS), any(depth + 1)]),
        );
    }
  };
  /** A plausible value most of the time, anything now and then. */
  const maybe = <T>(good: () => T, p = 0.95): unknown => (chance(p) ? good() : any());
  const num = (lo: number, hi: number): number => lo + random() * (hi - lo);

  const vector = (): unknown =>
    Object.fromEntries(
      Array.from({ length: 1 + int(3) }, () => [
        pick(['cpu', 'memoryMb', 'gpu', 'db-connections']),
        maybe(() => Math.round(num(0, 16) * 10) / 10),
      ]),
    );

  const stage = (i: number, ids: string[]): Record<string, unknown> => {
    const s: Record<string, unknown> = {
      id: maybe(() => `s${i}`, 0.97),
      handler: maybe(() => pick(['qm.echo', 'qm.sum', 'mine.handler']), 0.97),
      priority: maybe(() => 1 + int(10), 0.95),
    };
    if (chance(0.4) && ids.length > 0) s.dependsOn = maybe(() => [pick(ids)], 0.95);
    const items = Array.from({ length: int(40) }, (_, k) => k);
    s.input = maybe(() => ({ xs: items, tag: 't' }), 0.9);
    if (chance(0.4)) {
      const desired = vector();
      s.resources = maybe(() => (chance(0.5) ? { desired } : { desired, minimum: desired }));
    }
    if (chance(0.45)) {
      const byCount = chance(0.5);
      const shard: Record<string, unknown> = byCount
        ? { by: 'count', count: maybe(() => 1 + int(300)) }
        : { by: 'items', field: maybe(() => 'xs', 0.95) };
      if (chance(0.5)) shard.maxShards = maybe(() => 1 + int(300));
      if (!byCount && chance(0.3)) shard.minItemsPerShard = maybe(() => 1 + int(10));
      shard.reassemble = maybe(() => 'qm.concat', 0.97);
      if (chance(0.5)) shard.always = maybe(() => chance(0.7), 0.95);
      if (chance(0.2)) shard.partial = maybe(() => pick(['allow', 'forbid']));
      s.shard = maybe(() => shard, 0.95);
    }
    if (chance(0.3))
      s.retry = maybe(() => ({
        maximumAttempts: maybe(() => int(10)),
        initialIntervalSeconds: maybe(() => num(0.001, 100)),
        backoffCoefficient: maybe(() => num(1, 5)),
        maximumIntervalSeconds: maybe(() => num(0.001, 1000)),
      }));
    for (const key of ['timeoutSeconds', 'deadlineSeconds', 'expectedSeconds'])
      if (chance(0.25)) s[key] = maybe(() => pick([0.001, 0.5, 30, 600, 604_800, num(0.001, 604_800)]));
    if (chance(0.03)) s[pick(['timeout', 'resource', 'shards'])] = any();
    return s;
  };

  const definition = (): unknown => {
    const n = 1 + int(chance(0.05) ? 60 : 8);
    const ids: string[] = [];
    const stages = Array.from({ length: n }, (_, i) => {
      const s = stage(i, ids);
      ids.push(`s${i}`);
      return s;
    });
    const d: Record<string, unknown> = { name: maybe(() => `p${int(100)}`, 0.97), stages };
    if (chance(0.3)) d.importance = maybe(() => num(0, 10));
    if (chance(0.02)) d.stages = any();
    return d;
  };

  return (): unknown => {
    const roll = random();
    if (roll < 0.03) return any(); // not even an object
    if (roll < 0.06) return definition(); // a bare definition
    const arg: Record<string, unknown> = { definition: definition() };
    if (chance(0.3)) arg.input = maybe(() => ({ run: int(10) }), 0.9);
    if (chance(0.3)) arg.importance = maybe(() => num(0, 10), 0.7);
    if (chance(0.04)) arg[pick(['inputs', 'importnace', 'def', 'x'])] = any();
    return arg;
  };
}

/** Everything the workflow and the shard runner derive from an accepted argument; throws on any problem. */
function plan(args: Extract<ReturnType<typeof validatePipelineArgs>, { ok: true }>['args']): number {
  const run = new PipelineRun(args.definition, args.importance);
  run.ready();
  run.markdown();
  run.status();
  let shards = 0;
  for (const stage of args.definition.stages) {
    // Durations as the stage runner writes them must be valid Temporal durations.
    for (const seconds of [
      stage.timeoutSeconds ?? 600,
      stage.retry?.initialIntervalSeconds ?? 1,
      stage.retry?.maximumIntervalSeconds ?? 30,
    ]) {
      const ms = msToNumber(`${seconds}s`);
      if (!(ms >= 1 && Number.isFinite(ms))) throw new Error(`bad duration ${seconds}s`);
    }
    const input = stage.input as JsonValue;
    const spec = shardRequestSpec(stage, input);
    if (spec === undefined) continue;
    if (spec.maxShards > MAX_SHARDS) throw new Error(`maxShards ${spec.maxShards} over the cap`);
    // The planner over a small cluster, as the scheduling cycle runs it.
    planShards(
      { desired: stage.resources?.desired ?? {}, ...spec },
      firstFitOn({
        nodes: [{ id: 'n1', free: { cpu: 4, memoryMb: 4096, gpu: 1 } }],
        pools: { 'db-connections': 5 },
      }),
    );
    for (const decided of [undefined, 1, spec.maxShards, 1e9]) {
      const count = fanOutCount(stage, input, decided);
      if (count > MAX_SHARDS) throw new Error(`fan-out of ${count} over the cap`);
      const tasks = shardTasks(stage, input, count);
      shards += tasks.length;
      const task = tasks[0];
      if (task === undefined) continue;
      const { shard: _s, resources: _r, ...plain } = stage;
      const issues = shardArgsIssues({
        stage: { ...plain, ...(task.resources ? { resources: task.resources } : {}) },
        shard: { index: task.index, count: task.count },
        input: task.input,
        deps: {},
        pipelineInput: args.input,
        importance: args.importance,
        parentWorkflowId: 'p',
      });
      if (issues.length > 0) throw new Error(`shard argument rejected: ${JSON.stringify(issues)}`);
    }
    shardsUpFront(stage);
  }
  return shards;
}

test(`fuzz: ${CASES} seeded workflow arguments give typed issues or a plannable pipeline`, () => {
  const next = generator(seededRandom(SEED));
  let accepted = 0;
  let slowest = 0;
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const arg = next();
    const t0 = performance.now();
    let result: ReturnType<typeof validatePipelineArgs>;
    try {
      result = validatePipelineArgs(arg);
    } catch (err) {
      throw new Error(`case ${i} (seed ${SEED}): the validator threw ${String(err)}`, { cause: err });
    }
    if (result.ok) {
      accepted++;
      try {
        plan(result.args);
      } catch (err) {
        throw new Error(`case ${i} (seed ${SEED}): accepted but not plannable: ${String(err)}`, {
          cause: err,
        });
      }
    } else {
      expect(['InvalidArgumentError', 'InvalidDefinitionError']).toContain(result.type);
      expect(result.issues.length).toBeGreaterThan(0);
      for (const issue of result.issues) expect(CODES).toContain(issue.code);
      const failure = pipelineArgsFailure(result.issues);
      expect(failure.message.length).toBeLessThan(20_000);
    }
    slowest = Math.max(slowest, performance.now() - t0);
  }
  // Both sides are exercised, each case is quick, and the whole run fits a CI budget on a shared 2-core box.
  expect(accepted).toBeGreaterThan(CASES / 10);
  expect(CASES - accepted).toBeGreaterThan(CASES / 10);
  expect(slowest).toBeLessThan(1_000);
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(process.memoryUsage().heapUsed).toBeLessThan(1_500 * 1024 * 1024);
});
