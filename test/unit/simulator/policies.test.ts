/**
 * Every policy job for job against schedules computed by hand, on SWF fixtures replayed through the same
 * path as `qm simulate --swf` (one 8-core node, actual run times as estimates, flat priorities).
 */
import { jobsCsv, parsePriorityMap, replaySwf, type SimulationTrace } from '../../../src/simulator';

const line = (id: number, submit: number, run: number, procs: number): string =>
  `${id} ${submit} -1 ${run} ${procs} -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1`;

function run(lines: string[], policy: string): SimulationTrace {
  return replaySwf(lines.join('\n'), {
    cluster: '1x8',
    estimates: 'actual',
    priorityMap: parsePriorityMap('default=5'),
    simulate: { policy },
  }).trace;
}

/** SWF job number → [start, end]. */
function schedule(trace: SimulationTrace): Record<number, [number | null, number | null]> {
  return Object.fromEntries(trace.stages.map((s) => [s.job, [s.startedAt, s.completedAt]]));
}

// 1 and 2 at 0 (a tie: both fit); 3 wants 5 of 8 at 1 and is blocked until 1 ends at 10 (its shadow time:
// then 8 − 2 (job 2) = 6 ≥ 5 free, so it needs only 5 − 4 = 1 of the 2 free now: 1 held, 1 extra);
// 4 is zero-length; 7 (1 core, 100 s) fits in the extra core; 6 arrives after 7.
const FIXTURE = [
  line(1, 0, 10, 4),
  line(2, 0, 20, 2),
  line(3, 1, 5, 5),
  line(4, 2, 0, 2),
  line(5, 2, 30, 2),
  line(7, 3, 100, 1),
  line(6, 4, 5, 2),
];

describe('each policy on a hand-computed schedule', () => {
  it.each([
    [
      // EASY: 4 (ends at 2 ≤ 10) backfills into the hold; 7 runs past 10 on the extra core (at 10: 8 − 2 − 1
      // = 5 free, exactly 3's need); 5 (ends 32) and 6 (2 cores, only 1 held + 0 free) wait.
      'easy',
      { 1: [0, 10], 2: [0, 20], 3: [10, 15], 4: [2, 2], 5: [15, 45], 6: [15, 20], 7: [3, 103] },
    ],
    [
      // Strict FIFO: nothing passes 3; at 15: 4 (0 s), 5, 7 start, 6 waits for 4's 2 cores (back at 15).
      'fifo',
      { 1: [0, 10], 2: [0, 20], 3: [10, 15], 4: [15, 15], 5: [15, 45], 6: [15, 20], 7: [15, 115] },
    ],
    [
      // First fit: 4 and then 5 take the 2 free cores; 3 must wait until 2 ends at 20.
      'firstfit',
      { 1: [0, 10], 2: [0, 20], 3: [20, 25], 4: [2, 2], 5: [2, 32], 6: [10, 15], 7: [10, 110] },
    ],
    // Flat priorities: strict priority is first fit in ready order.
    ['priority', { 1: [0, 10], 2: [0, 20], 3: [20, 25], 4: [2, 2], 5: [2, 32], 6: [10, 15], 7: [10, 110] }],
    [
      // Quartermaster: 3 keeps its hold (a stable holder, never outranked by 0.3); 7 (fit 1, size 0.0875)
      // ranks before 5 at 3 and takes the extra core; the rest as EASY.
      'quartermaster',
      { 1: [0, 10], 2: [0, 20], 3: [10, 15], 4: [2, 2], 5: [15, 45], 6: [15, 20], 7: [3, 103] },
    ],
  ])('%s', (policy, expected) => {
    expect(schedule(run(FIXTURE, policy))).toEqual(expected);
  });

  it('ties at one instant follow arrival, not the key string (submissions 9 and 10)', () => {
    // Nine zero-length jobs at 0, then jobs 10 and 11 (submission indexes 9 and 10) at 1, each needing all 8
    // cores: 10 arrived first, so it runs first ("s10-…" sorts before "s9-…" as a string).
    const lines = Array.from({ length: 9 }, (_, i) => line(i + 1, 0, 0, 1));
    lines.push(line(10, 1, 10, 8), line(11, 1, 10, 8));
    for (const policy of ['fifo', 'firstfit', 'easy', 'quartermaster']) {
      const s = schedule(run(lines, policy));
      expect([s[10], s[11]]).toEqual([
        [1, 11],
        [11, 21],
      ]);
    }
  });

  it('--jobs-out writes one row per job', () => {
    const csv = jobsCsv(run(FIXTURE.slice(0, 3), 'easy'));
    expect(csv).toBe(
      [
        'job,pipeline,stage,priority,submit,start,end,procs,run',
        '1,job-1,run,5,0,0,10,4,10',
        '2,job-2,run,5,0,0,20,2,20',
        '3,job-3,run,5,1,10,15,5,5',
        '',
      ].join('\n'),
    );
  });
});
