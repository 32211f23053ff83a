import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import {
  loadWorkloadFile,
  parseWorkload,
  WORKLOAD_SCHEMA_ID,
  workloadJsonSchema,
  type WorkloadIssue,
} from '../../../src/simulator';
import { job } from './fixtures';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'workloads');
const committedFile = path.join(__dirname, '..', '..', '..', 'schema', 'workload.schema.json');

function base(): Record<string, unknown> {
  return {
    cluster: { nodes: [{ id: 'n1', capacity: { cpu: 4 } }] },
    submissions: [job(0, 'a', 5, { cpu: 2 }, 10)],
  };
}

function issuesOf(raw: unknown): WorkloadIssue[] {
  try {
    parseWorkload(raw);
  } catch (err) {
    expect(err).toMatchObject({ name: 'InvalidWorkloadError' });
    return [...(err as { issues: WorkloadIssue[] }).issues];
  }
  throw new Error('expected InvalidWorkloadError');
}

describe('parseWorkload', () => {
  it('accepts a minimal workload and fills defaults', () => {
    const w = parseWorkload(base());
    expect(w.cluster.pools).toEqual({});
    expect(w.background).toEqual({});
    expect(w.submissions[0]).toMatchObject({
      at: 0,
      durations: { s: 10 },
      expectedSeconds: { s: 10 },
      boosts: [],
    });
    expect(w.submissions[0]?.definition.stages[0]?.dependsOn).toEqual([]);
  });

  it('sorts submissions by time, keeping file order for equal times', () => {
    const w = parseWorkload({
      ...base(),
      submissions: [
        job(5, 'late', 1, { cpu: 1 }, 1),
        job(0, 'x', 1, { cpu: 1 }, 1),
        job(0, 'y', 1, { cpu: 1 }, 1),
      ],
    });
    expect(w.submissions.map((s) => s.definition.name)).toEqual(['x', 'y', 'late']);
  });

  it.each<[string, (w: Record<string, unknown>) => void, string, RegExp]>([
    ['a missing cluster', (w) => delete w.cluster, 'cluster', /object/],
    [
      'a string time',
      (w) => ((w.submissions as Array<Record<string, unknown>>)[0]!.at = 'soon'),
      'submissions[0].at',
      /number/,
    ],
    [
      'a missing duration',
      (w) => ((w.submissions as Array<Record<string, unknown>>)[0]!.durations = {}),
      'submissions[0].durations',
      /missing the duration of stage "s"/,
    ],
    [
      'a duration of an unknown stage',
      (w) => ((w.submissions as Array<Record<string, unknown>>)[0]!.durations = { s: 1, t: 2 }),
      'submissions[0].durations.t',
      /no stage "t"/,
    ],
    [
      'a bad definition',
      (w) =>
        ((
          (w.submissions as Array<Record<string, unknown>>)[0]!.definition as {
            stages: Array<Record<string, unknown>>;
          }
        ).stages[0]!.priority = 11),
      'submissions[0].definition.stages[0].priority',
      /1–10/,
    ],
    [
      'a duplicate node',
      (w) => (w.cluster as { nodes: unknown[] }).nodes.push({ id: 'n1', capacity: { cpu: 1 } }),
      'cluster.nodes[1].id',
      /duplicate/,
    ],
    [
      'a custom resource as node capacity',
      (w) =>
        ((w.cluster as { nodes: Array<{ capacity: Record<string, number> }> }).nodes[0]!.capacity.licenses =
          2),
      'cluster.nodes[0].capacity.licenses',
      /not a host resource/,
    ],
    [
      'a host resource as a pool',
      (w) => ((w.cluster as Record<string, unknown>).pools = { cpu: 3 }),
      'cluster.pools.cpu',
      /host resource/,
    ],
    [
      'a stage larger than every node',
      (w) => ((w.submissions as unknown[])[0] = job(0, 'a', 5, { cpu: 9 }, 10)),
      'submissions[0].definition.stages[0].resources.minimum.cpu',
      /could never run/,
    ],
    [
      'a custom resource without a pool',
      (w) => ((w.submissions as unknown[])[0] = job(0, 'a', 5, { cpu: 1, 'db-connections': 1 }, 10)),
      'submissions[0].definition.stages[0].resources.minimum["db-connections"]',
      /no pool/,
    ],
    [
      'background on an unknown node',
      (w) => (w.background = { n9: { cpu: [[0, 1]] } }),
      'background.n9',
      /no node "n9"/,
    ],
    [
      'background times not ascending',
      (w) =>
        (w.background = {
          n1: {
            cpu: [
              [5, 1],
              [5, 2],
            ],
          },
        }),
      'background.n1.cpu[1][0]',
      /ascending/,
    ],
    [
      'an unknown background metric',
      (w) => (w.background = { n1: { gpu: [[0, 1]] } }),
      'background.n1',
      /metrics/,
    ],
    [
      'a zero ttl',
      (w) =>
        ((w.submissions as Array<Record<string, unknown>>)[0]!.boosts = [
          { at: 0, amount: 1, ttlSeconds: 0 },
        ]),
      'submissions[0].boosts[0].ttlSeconds',
      /> 0/,
    ],
  ])('rejects %s, naming the JSON path', (_what, mutate, pathText, message) => {
    const w = base();
    mutate(w);
    const issues = issuesOf(w);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: pathText, message: expect.stringMatching(message) }),
      ]),
    );
  });
});

describe('loadWorkloadFile', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-workload-'));
  it.each([
    ['a missing file', path.join(dir, 'nope.json'), 'WorkloadReadError'],
    [
      'a file that is not JSON',
      (() => {
        const f = path.join(dir, 'bad.json');
        writeFileSync(f, '{ nope');
        return f;
      })(),
      'WorkloadReadError',
    ],
    [
      'an invalid workload',
      (() => {
        const f = path.join(dir, 'invalid.json');
        writeFileSync(f, '{}');
        return f;
      })(),
      'InvalidWorkloadError',
    ],
  ])('%s', (_what, file, name) => {
    expect(() => loadWorkloadFile(file)).toThrow(expect.objectContaining({ name }));
  });
});

describe('workload JSON Schema', () => {
  it('matches the committed schema/workload.schema.json', () => {
    expect(JSON.parse(readFileSync(committedFile, 'utf8'))).toEqual(workloadJsonSchema());
  });

  it('has the editor metadata', () => {
    expect(workloadJsonSchema()).toMatchObject({
      $id: WORKLOAD_SCHEMA_ID,
      title: 'Quartermaster simulator workload',
      required: ['cluster', 'submissions'],
    });
  });

  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(workloadJsonSchema());
  const BENCH = path.join(__dirname, '..', '..', '..', 'bench', 'workloads');
  const files = [FIXTURES, BENCH].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(dir, f)),
  );
  it.each(files)('accepts workload %s', (file) => {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    expect(validate(raw)).toBe(true);
    expect(() => parseWorkload(raw)).not.toThrow();
  });

  it('rejects an unknown top-level field', () => {
    expect(validate({ ...base(), extra: 1 })).toBe(false);
  });
});
