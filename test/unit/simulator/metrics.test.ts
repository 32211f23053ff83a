import { bandOf, computeMetrics, EventQueue, simulate, waitStats } from '../../../src/simulator';
import { simulateCommand, simulateSwfCommand } from '../../../src/cli/commands/simulate';
import path from 'node:path';
import { fixture } from './fixtures';

describe('waitStats', () => {
  it.each([
    [[], { mean: 0, p50: 0, p95: 0, max: 0, count: 0 }],
    [[5], { mean: 5, p50: 5, p95: 5, max: 5, count: 1 }],
    [[4, 1, 3, 2], { mean: 2.5, p50: 2, p95: 4, max: 4, count: 4 }],
    [Array.from({ length: 100 }, (_, i) => i + 1), { mean: 50.5, p50: 50, p95: 95, max: 100, count: 100 }],
  ])('case %#', (values, expected) => {
    expect(waitStats(values)).toEqual(expected);
  });
});

it.each([
  [10, 'high'],
  [8, 'high'],
  [7, 'mid'],
  [4, 'mid'],
  [3, 'low'],
  [1, 'low'],
])('priority %i is in band %s', (p, band) => {
  expect(bandOf(p)).toBe(band);
});

describe('computeMetrics', () => {
  const m = computeMetrics(simulate(fixture('order'), { policy: 'fifo' }));

  it('has exactly the keys of the issue (and more)', () => {
    const stats = { p50: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) };
    expect(m).toMatchObject({
      policy: 'fifo',
      makespanSeconds: expect.any(Number),
      utilization: { cpu: expect.any(Number) },
      waitSeconds: {
        all: stats,
        byBand: { high: stats, mid: stats, low: stats },
        byPriority: { '2': stats, '5': stats, '9': stats },
      },
      weightedCompletionSeconds: expect.any(Number),
      reducedGrants: 0,
      shards: 0,
      partialCompletions: 0,
      overcommitEvents: 0,
    });
  });

  it('computes the hand-checked numbers of order.json under fifo', () => {
    // a 0–10 (ready 0), c 10–20 (ready 1), b 20–30 (ready 2); weights 2, 5, 9.
    expect(m.makespanSeconds).toBe(30);
    expect(m.waitSeconds.all).toEqual({ mean: 9, p50: 9, p95: 18, max: 18, count: 3 });
    expect(m.waitSeconds.byPriority).toEqual({
      '2': { mean: 0, p50: 0, p95: 0, max: 0, count: 1 },
      '5': { mean: 9, p50: 9, p95: 9, max: 9, count: 1 },
      '9': { mean: 18, p50: 18, p95: 18, max: 18, count: 1 },
    });
    // Bounded slowdown max(1, (wait + run) / max(run, 10)): a 1, c (9 + 10) / 10, b (18 + 10) / 10.
    expect(m.boundedSlowdown.all).toBeCloseTo((1 + 1.9 + 2.8) / 3, 9);
    expect(m.boundedSlowdown.byBand).toEqual({ high: 2.8, mid: 1.9, low: 1 });
    // 3 × 4 cores × 10 s over 4 cores × 30 s; nothing ever held under strict FIFO.
    expect(m.overallUtilization.cpu).toBe(1);
    expect(m.holds).toEqual({ holderChanges: 0, switchesWhileWaiting: 0, heldUnused: { cpu: 0 } });
    expect(m.weightedCompletionSeconds).toBeCloseTo((2 * 10 + 5 * 19 + 9 * 28) / 16, 9);
    // Backlog from 1 s to 20 s, the node full throughout.
    expect(m.backlogSeconds).toBe(19);
    expect(m.utilization.cpu).toBe(1);
    expect(m.starvationBoundSeconds).toBe(0); // fifo's weights are age alone: the oldest is always first
  });

  it('measures start-estimate errors', () => {
    // At 1 s, c is estimated to start at 10 (when a ends): exact. At 2 s, b at 20: exact.
    expect(m.waitEstimate).toMatchObject({ count: 2, meanAbsErrorSeconds: 0 });
  });
});

describe('EventQueue', () => {
  it('pops by time, FIFO among equal times', () => {
    const q = new EventQueue<string>();
    for (const [t, v] of [
      [5, 'a'],
      [1, 'b'],
      [5, 'c'],
      [0, 'd'],
      [1, 'e'],
    ] as const)
      q.push(t, v);
    const out: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.value);
    expect(out).toEqual(['d', 'b', 'e', 'a', 'c']);
    expect(q.peekTime()).toBeUndefined();
  });
});

describe('qm simulate', () => {
  const file = path.join(__dirname, '..', '..', 'fixtures', 'workloads', 'order.json');
  let out = '';
  beforeEach(() => {
    out = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('--json prints one object for the chosen policy', () => {
    simulateCommand(file, { policy: 'priority', json: true });
    expect(JSON.parse(out)).toMatchObject({ policy: 'priority', makespanSeconds: 30, overcommitEvents: 0 });
  });

  it('--start-latency / --release-latency delay every start (capacity held meanwhile)', () => {
    simulateCommand(file, { policy: 'fifo', json: true, startLatencySeconds: 1, releaseLatencySeconds: 0.5 });
    // Three 10 s stages in a row on one node: each adds 1 s before and 0.5 s after.
    expect(JSON.parse(out)).toMatchObject({ policy: 'fifo', makespanSeconds: 34.5 });
    expect(() => simulateCommand(file, { startLatencySeconds: -1 })).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/startLatencySeconds/) }),
    );
  });

  it('prints a summary by default', () => {
    simulateCommand(file);
    expect(out).toMatch(/policy quartermaster: makespan 30\.0 s/);
  });

  it('--swf replays a log, reporting skipped lines with their numbers on stderr', () => {
    let err = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((x: string | Uint8Array) => {
      err += String(x);
      return true;
    });
    const swf = path.join(__dirname, '..', '..', 'fixtures', 'workloads', 'nasa-slice.swf');
    const m = simulateSwfCommand(swf, { policy: 'fifo', json: true, cluster: '2x64', timeScale: 4 });
    expect(JSON.parse(out)).toMatchObject({
      policy: 'fifo',
      swf: { jobs: 300, skippedLines: 4 },
      overcommitEvents: 0,
    });
    expect(m.overcommitEvents).toBe(0);
    expect(err).toMatch(/nasa-slice\.swf:137: truncated: 2 of 18 fields \(skipped\)/);
    expect(() => simulateSwfCommand(swf, { window: '5' })).toThrow(
      expect.objectContaining({ name: 'UsageError' }),
    );
    expect(() => simulateSwfCommand(swf, { cluster: 'big' })).toThrow(
      expect.objectContaining({ name: 'UsageError' }),
    );
  });

  it.each([
    ['a missing file', 'nope.json', {}],
    ['an unknown policy', file, { policy: 'lifo' }],
  ])('%s is a usage error', (_what, f, options) => {
    expect(() => simulateCommand(f, options as never)).toThrow(
      expect.objectContaining({ name: 'UsageError' }),
    );
  });
});
