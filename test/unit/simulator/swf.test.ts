import path from 'node:path';
import {
  computeMetrics,
  defaultSwfPriority,
  parseClusterSpec,
  parsePriorityMap,
  parseSwf,
  parseSwfHeader,
  readSwfText,
  replaySwf,
  swfSubmissions,
  type SwfJob,
  type SwfProblem,
} from '../../../src/simulator';

const SLICE = path.join(__dirname, '..', '..', 'fixtures', 'workloads', 'nasa-slice.swf');
const text = readSwfText(SLICE);
const line = (id: number, submit: number, run: number, procs: number, group = 1, queue = -1): string =>
  `${id} ${submit} -1 ${run} ${procs} -1 -1 -1 -1 -1 -1 1 ${group} -1 ${queue} -1 -1 -1`;

describe('parseSwf', () => {
  it('reports damaged lines with their line numbers and skips them', () => {
    const problems: SwfProblem[] = [];
    const jobs = [...parseSwf(text, (p) => problems.push(p))];
    expect(jobs).toHaveLength(300);
    expect(problems).toEqual([
      { line: 137, message: 'truncated: 2 of 18 fields' },
      { line: 138, message: 'field 5 is not a number ("x4")' },
      { line: 239, message: 'unknown run time (field 4)' },
      { line: 240, message: 'unknown processor count (fields 5 and 8)' },
    ]);
    expect(jobs[0]).toEqual({
      line: 37,
      id: 5108,
      submit: 1067691,
      runTime: 3030,
      procs: 8,
      requestedTime: -1,
      user: 22,
      group: 1,
      queue: -1,
    });
  });

  it.each<[string, string, number]>([
    [
      'requested processors when allocated is unknown',
      '1 0 -1 10 -1 -1 -1 16 -1 -1 -1 1 1 -1 -1 -1 -1 -1',
      16,
    ],
    ['a last line without a newline', line(1, 0, 10, 4), 4],
  ])('uses %s', (_what, input, procs) => {
    expect([...parseSwf(input)].map((j) => j.procs)).toEqual([procs]);
  });

  it('reads the header', () => {
    expect(parseSwfHeader(text)).toEqual({ maxProcs: 128 });
    expect(parseSwfHeader('; MaxNodes: 64\n')).toEqual({ maxProcs: 64 });
  });
});

describe('priorities', () => {
  const job = (group: number, queue: number, runTime: number, requestedTime = -1): SwfJob => ({
    line: 1,
    id: 1,
    submit: 0,
    runTime,
    procs: 1,
    requestedTime,
    user: 1,
    group,
    queue,
  });
  it.each([
    [job(2, 1, 9999), 8],
    [job(1, 0, 9999), 7],
    [job(1, 1, 10), 4],
    // No queue: the requested time decides, never the actual run time; with neither, 5.
    [job(1, -1, 9999, 300), 5],
    [job(1, -1, 10, 301), 3],
    [job(1, -1, 10), 5],
    [job(1, -1, 99999), 5],
  ])('default rule: %j → %i', (j, p) => {
    expect(defaultSwfPriority(j)).toBe(p);
  });

  it('parses a priority map, first match wins', () => {
    expect(parsePriorityMap('group:2=9, queue:0=7,default=2')).toEqual({
      rules: [
        { field: 'group', value: 2, priority: 9 },
        { field: 'queue', value: 0, priority: 7 },
      ],
      fallback: 2,
    });
  });

  it.each(['group=2', 'group:2=11', 'colour:2=3', 'default=0'])('rejects %s', (bad) => {
    expect(() => parsePriorityMap(bad)).toThrow(
      expect.objectContaining({ name: 'InvalidSimulationOptionError' }),
    );
  });
});

describe('parseClusterSpec', () => {
  it.each([
    ['4x32', [32, 32, 32, 32]],
    ['64,32', [64, 32]],
  ])('%s', (spec, cores) => {
    expect(parseClusterSpec(spec).map((n) => n.capacity.cpu)).toEqual(cores);
  });
  it.each(['', '4x', 'x32', '4x-1', 'a,b'])('rejects %j', (bad) => {
    expect(() => parseClusterSpec(bad)).toThrow(
      expect.objectContaining({ name: 'InvalidSimulationOptionError' }),
    );
  });
});

describe('swfSubmissions', () => {
  const nodes = parseClusterSpec('2x8');

  it("tells the scheduler the user's requested time, else nothing; the actual run time only when asked", () => {
    const requested = '1 0 -1 10 4 -1 -1 4 60 -1 1 1 1 -1 -1 -1 -1 -1';
    const parsed = [...parseSwf([requested, line(2, 0, 10, 4)].join('\n'))];
    expect(parsed.map((j) => j.requestedTime)).toEqual([60, -1]);
    const subs = [...swfSubmissions(parsed, { nodes, timeScale: 4 })];
    expect(subs.map((s) => [s.durations.run, s.expectedSeconds.run, s.jobId])).toEqual([
      [10, 60, 1],
      [10, undefined, 2],
    ]);
    const oracle = [...swfSubmissions(parsed, { nodes, estimates: 'actual' })];
    expect(oracle.map((s) => s.expectedSeconds.run)).toEqual([10, 10]);
  });
  const jobs = [
    ...parseSwf(
      [line(1, 100, 10, 4), line(2, 200, 10, 16, 2), line(3, 300, 10, 8), line(4, 400, 10, 6)].join('\n'),
    ),
  ];

  it('maps jobs to one-stage pipelines: scaled, windowed, clamped to the largest node', () => {
    const stats = { jobs: 0, outsideWindow: 0, clamped: 0, shardable: 0, withRequestedTime: 0 };
    const subs = [...swfSubmissions(jobs, { nodes, timeScale: 2, window: [200, 300] }, stats)];
    expect(
      subs.map((s) => [
        s.at,
        s.definition.stages[0]?.resources?.desired,
        s.definition.stages[0]?.priority,
        s.durations,
      ]),
    ).toEqual([
      [0, { cpu: 8 }, 8, { run: 10 }],
      [50, { cpu: 8 }, 5, { run: 10 }],
    ]);
    expect(stats).toEqual({ jobs: 2, outsideWindow: 2, clamped: 1, shardable: 0, withRequestedTime: 0 });
  });

  it('makes the chosen share of wide jobs shardable, by items', () => {
    const all = [...swfSubmissions(jobs, { nodes, shardableFraction: 1 })];
    expect(all.map((s) => s.definition.stages[0]?.shard?.maxShards ?? null)).toEqual([4, 8, 8, 6]); // wide: more than ¼ of the largest node (2 cores)
    const none = [...swfSubmissions(jobs, { nodes, shardableFraction: 0 })];
    expect(none.every((s) => s.definition.stages[0]?.shard === undefined)).toBe(true);
  });

  it.each([
    [{ timeScale: 0 }, 'timeScale'],
    [{ shardableFraction: 2 }, 'shardableFraction'],
    [{ window: [5, 1] as const }, 'window'],
  ])('rejects %j', (options, field) => {
    expect(() => [...swfSubmissions(jobs, { nodes, ...options })]).toThrow(
      expect.objectContaining({ field }),
    );
  });
});

describe('replaySwf on a slice of the NASA log', () => {
  it.each(['quartermaster', 'fifo', 'priority'])('%s: every job runs, nothing overcommits', (policy) => {
    const problems: SwfProblem[] = [];
    const r = replaySwf(text, {
      simulate: { policy },
      timeScale: 5,
      cluster: '4x32',
      shardableFraction: 0.5,
      onProblem: (p) => problems.push(p),
    });
    const m = computeMetrics(r.trace);
    expect(r.problems).toBe(4);
    expect(problems).toHaveLength(4);
    expect(r.stats.jobs).toBe(300);
    expect(m.overcommitEvents).toBe(0);
    expect(m.unstartedStages).toBe(0);
    expect(r.trace.pipelines.every((p) => p.completedAt !== null)).toBe(true);
  });

  it('defaults to one node of the header MaxProcs; at the log’s own pace nothing waits', () => {
    const r = replaySwf(text);
    expect(r.nodes).toEqual([{ id: 'n1', capacity: { cpu: 128 } }]);
    // SWF submit times of this log are really start times: replayed as they are, no job ever waits.
    expect(computeMetrics(r.trace).waitSeconds.all.max).toBe(0);
  });

  it('compressing arrivals raises waits', () => {
    const at = (timeScale: number): number =>
      computeMetrics(replaySwf(text, { simulate: { policy: 'fifo' }, cluster: '2x32', timeScale }).trace)
        .waitSeconds.all.p95;
    const slow = at(1);
    const fast = at(10);
    expect(fast).toBeGreaterThan(slow);
  });
});
