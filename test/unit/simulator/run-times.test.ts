/** Run times in the simulator: declared, none, learned (from a history, refreshed as runs complete). */
import type { ExecutionRecord } from '../../../src/execution/record';
import {
  parseWorkload,
  simulate,
  simulateLearned,
  toExecutionRecords,
  type RunTimeMode,
  type SimulationTrace,
  type Workload,
} from '../../../src/simulator';
import { rec } from '../report/records';
import { job, workload } from './fixtures';

function times(trace: SimulationTrace): Record<string, [number | null, number | null]> {
  return Object.fromEntries(trace.stages.map((s) => [s.pipeline, [s.startedAt, s.completedAt]]));
}

// One 4-core node: a (p2, 2 cores, 10 s) at 0; b (p9, 4 cores, 10 s) at 1 holds a's node until a ends at
// 10; d (p1, 2 cores, 5 s) at 2 fits beside a and ends at 7, before b can start: backfill, if the scheduler
// knows d's run time (and a's end).
const backfill: Workload = workload({ cpu: 4 }, [
  job(0, 'a', 2, { cpu: 2 }, 10),
  job(1, 'b', 9, { cpu: 4 }, 10),
  job(2, 'd', 1, { cpu: 2 }, 5),
]);
const BACKFILLED = { a: [0, 10], d: [2, 7], b: [10, 20] };
const NOT_BACKFILLED = { a: [0, 10], b: [10, 20], d: [20, 25] };

/** `n` completed runs of pipeline `name`'s stage `s` lasting `seconds` each at `cpu` of `desired`. */
function history(name: string, n: number, seconds: number, cpu = 2, desired = 2): ExecutionRecord[] {
  return Array.from({ length: n }, (_, i) =>
    rec({
      definitionName: name,
      stageId: 's',
      started: -1000 + i * 100,
      ended: -1000 + i * 100 + seconds,
      desired: { cpu: desired },
      granted: { cpu },
    }),
  );
}

describe('runTimes', () => {
  it.each<[string, RunTimeMode, ExecutionRecord[] | undefined, Record<string, number[]>]>([
    ['declared: d backfills', 'declared', undefined, BACKFILLED],
    ['none: no run time, no backfill', 'none', undefined, NOT_BACKFILLED],
    [
      'learned from 3 runs each: backfills',
      'learned',
      [...history('a', 3, 10), ...history('d', 3, 5)],
      BACKFILLED,
    ],
    // d ran 10 s at 1 of 2 cores: 5 s at desired.
    [
      'learned, normalised by CPU share',
      'learned',
      [...history('a', 3, 10), ...history('d', 3, 10, 1)],
      BACKFILLED,
    ],
    // p90 of 4, 4, 10 is 8.8 (percentile_cont): d would end at 10.8, after b's start: no backfill.
    [
      'learned, pessimistic p90',
      'learned',
      [...history('a', 3, 10), ...history('d', 2, 4), ...history('d', 1, 10)],
      NOT_BACKFILLED,
    ],
    [
      'learned from too few runs (2): none',
      'learned',
      [...history('a', 3, 10), ...history('d', 2, 5)],
      NOT_BACKFILLED,
    ],
    ['learned without history: none', 'learned', undefined, NOT_BACKFILLED],
  ])('%s', (_label, runTimes, learnedFrom, expected) => {
    const trace = simulate(backfill, { runTimes, ...(learnedFrom === undefined ? {} : { learnedFrom }) });
    expect(times(trace)).toEqual(expected);
  });

  it('records the prediction behind each run, with its source', () => {
    const learnedFrom = [...history('a', 3, 10), ...history('d', 3, 5)];
    const by = (mode: RunTimeMode): Record<string, Partial<ExecutionRecord>> =>
      Object.fromEntries(
        toExecutionRecords(
          simulate(backfill, { runTimes: mode, ...(mode === 'learned' ? { learnedFrom } : {}) }),
        ).records.map((r) => [
          r.definitionName,
          {
            expectedSeconds: r.expectedSeconds,
            predictedSeconds: r.predictedSeconds,
            predictedSource: r.predictedSource,
          },
        ]),
      );
    expect(by('declared')).toEqual({
      a: { expectedSeconds: 10, predictedSeconds: 10, predictedSource: 'declared' },
      b: { expectedSeconds: 10, predictedSeconds: 10, predictedSource: 'declared' },
      d: { expectedSeconds: 5, predictedSeconds: 5, predictedSource: 'declared' },
    });
    expect(by('none')).toEqual({
      a: { expectedSeconds: null, predictedSeconds: null, predictedSource: null },
      b: { expectedSeconds: null, predictedSeconds: null, predictedSource: null },
      d: { expectedSeconds: null, predictedSeconds: null, predictedSource: null },
    });
    expect(by('learned')).toEqual({
      a: { expectedSeconds: null, predictedSeconds: 10, predictedSource: 'learned' },
      b: { expectedSeconds: null, predictedSeconds: null, predictedSource: null },
      d: { expectedSeconds: null, predictedSeconds: 5, predictedSource: 'learned' },
    });
  });

  it('learns from the runs it completes: the 4th run of a key is told the learned time', () => {
    // x runs alone 4 times, 10 s each, 20 s apart: runs 1–3 have no history; run 4 has 3 runs.
    const w = workload(
      { cpu: 4 },
      [0, 20, 40, 60].map((at) => job(at, 'x', 5, { cpu: 2 }, 10)),
    );
    const runs = simulate(w, { runTimes: 'learned' }).executions;
    expect(runs.map((r) => [r.expectedSeconds, r.expectedSource])).toEqual([
      [null, null],
      [null, null],
      [null, null],
      [10, 'learned'],
    ]);
  });

  it('simulateLearned warms the history up with a first run of the same workload', () => {
    const w = parseWorkload({
      cluster: { nodes: [{ id: 'n1', capacity: { cpu: 4 } }] },
      submissions: [0, 20, 40].map((at) => job(at, 'x', 5, { cpu: 2 }, 10)),
    });
    const { history: records, warmUp, trace } = simulateLearned(w);
    expect(records).toHaveLength(3);
    expect(warmUp.executions.every((r) => r.expectedSource === null)).toBe(true);
    expect(trace.executions.map((r) => [r.expectedSeconds, r.expectedSource])).toEqual([
      [10, 'learned'],
      [10, 'learned'],
      [10, 'learned'],
    ]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown mode', { runTimes: 'guessed' }, 'runTimes'],
    ['learnedFrom without learned', { runTimes: 'declared', learnedFrom: [] }, 'learnedFrom'],
    ['learnedFrom not an array', { runTimes: 'learned', learnedFrom: 'history.json' }, 'learnedFrom'],
  ])('rejects %s with a typed error', (_label, options, field) => {
    let caught: unknown;
    try {
      simulate(backfill, options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'InvalidSimulationOptionError', field });
  });
});
