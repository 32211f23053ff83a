import {
  computeMetrics,
  parseWorkload,
  simulate,
  type SimulationTrace,
  type Workload,
} from '../../../src/simulator';
import { fixture, job, workload } from './fixtures';

const POLICIES = ['quartermaster', 'fifo', 'firstfit', 'easy', 'priority'] as const;

/** pipeline name → [started, completed] of its (single) stage. */
function times(trace: SimulationTrace): Record<string, [number | null, number | null]> {
  return Object.fromEntries(trace.stages.map((s) => [s.pipeline, [s.startedAt, s.completedAt]]));
}

describe('hand-checked schedules', () => {
  // order.json: one 4-core node; a (p2) at 0, c (p5) at 1, b (p9) at 2, each 4 cores for 10 s.
  // backfill-hold.json: a (p2, 2 cores, 10 s) at 0; b (p9, 4 cores) at 1; d (p1, 2 cores, 20 s) at 2.
  it.each([
    ['order', 'fifo', { a: [0, 10], c: [10, 20], b: [20, 30] }],
    ['order', 'firstfit', { a: [0, 10], c: [10, 20], b: [20, 30] }],
    ['order', 'easy', { a: [0, 10], c: [10, 20], b: [20, 30] }],
    ['order', 'priority', { a: [0, 10], b: [10, 20], c: [20, 30] }],
    ['order', 'quartermaster', { a: [0, 10], b: [10, 20], c: [20, 30] }],
    // First fit without holds: d slips into a's spare 2 cores and delays b until 22.
    ['backfill-hold', 'firstfit', { a: [0, 10], d: [2, 22], b: [22, 32] }],
    // Strict FIFO: nothing overtakes b. EASY: b needs all 4 cores at 10 (its shadow time), so it holds
    // a's spare 2 (no extra), and d (ending at 22 > 10) may not use them.
    ['backfill-hold', 'fifo', { a: [0, 10], b: [10, 20], d: [20, 40] }],
    ['backfill-hold', 'easy', { a: [0, 10], b: [10, 20], d: [20, 40] }],
    ['backfill-hold', 'priority', { a: [0, 10], d: [2, 22], b: [22, 32] }],
    // b holds the capacity it needs as it frees up: d may not take it, b starts when a ends.
    ['backfill-hold', 'quartermaster', { a: [0, 10], b: [10, 20], d: [20, 40] }],
  ])('%s under %s', (name, policy, expected) => {
    expect(times(simulate(fixture(name), { policy }))).toEqual(expected);
  });

  it('a short stage backfills into the hold when it ends before the holder can start (EASY)', () => {
    // a (p2, 2 cores, 10 s) at 0; b (p9, 4 cores) at 1 holds a's node; d (p1, 2 cores) ends by 10 or not.
    const w = (dSeconds: number): Workload =>
      workload({ cpu: 4 }, [
        job(0, 'a', 2, { cpu: 2 }, 10),
        job(1, 'b', 9, { cpu: 4 }, 10),
        job(2, 'd', 1, { cpu: 2 }, dSeconds),
      ]);
    expect(times(simulate(w(5), { policy: 'quartermaster' }))).toEqual({
      a: [0, 10],
      d: [2, 7],
      b: [10, 20],
    });
    // Ending at 11 would delay b: d waits behind it.
    expect(times(simulate(w(9), { policy: 'quartermaster' }))).toEqual({
      a: [0, 10],
      b: [10, 20],
      d: [20, 29],
    });
    expect(times(simulate(w(8), { policy: 'quartermaster' }))).toEqual({
      a: [0, 10],
      d: [2, 10],
      b: [10, 20],
    });
  });

  it('start and release latencies delay each start and hold capacity meanwhile', () => {
    const trace = simulate(fixture('order'), {
      policy: 'fifo',
      startLatencySeconds: 1,
      releaseLatencySeconds: 0.5,
    });
    // a: granted 0, runs 1–11, releases at 11.5; c: granted 11.5, runs 12.5–22.5, releases 23; b likewise.
    expect(times(trace)).toEqual({ a: [1, 11.5], c: [12.5, 23], b: [24, 34.5] });
  });

  it('a request latency delays when the scheduler first sees a ready stage', () => {
    const trace = simulate(fixture('order'), { policy: 'fifo', requestLatencySeconds: 2 });
    // a (ready 0) is requested at 2 and starts then; c and b queue behind it as before.
    expect(times(trace)).toEqual({ a: [2, 12], c: [12, 22], b: [22, 32] });
    expect(trace.stages.find((st) => st.pipeline === 'a')?.readyAt).toBe(0);
  });

  it('a reduced grant stretches the run in proportion to its CPU share', () => {
    const w = workload({ cpu: 4 }, [
      job(0, 'a', 5, { cpu: 2 }, 10),
      {
        ...job(0, 'b', 5, { cpu: 4 }, 10),
        definition: {
          name: 'b',
          stages: [
            {
              id: 's',
              handler: 'qm.sleep',
              priority: 5,
              resources: { desired: { cpu: 4 }, minimum: { cpu: 2 } },
            },
          ],
        },
      },
    ]);
    const qm = simulate(w, { policy: 'quartermaster' });
    expect(times(qm)).toEqual({ a: [0, 10], b: [0, 20] }); // 2 of 4 cores: half speed
    expect(computeMetrics(qm).reducedGrants).toBe(1);
    const fifo = simulate(w, { policy: 'fifo' });
    expect(times(fifo)).toEqual({ a: [0, 10], b: [10, 20] }); // no reduced grants: waits for 4 cores
  });

  it('a stage too wide for any node is sharded, and each shard runs its item share', () => {
    const w = parseWorkload({
      cluster: {
        nodes: [
          { id: 'n1', capacity: { cpu: 4 } },
          { id: 'n2', capacity: { cpu: 4 } },
        ],
      },
      submissions: [
        {
          at: 0,
          definition: {
            name: 'wide',
            stages: [
              {
                id: 's',
                handler: 'qm.sleep',
                priority: 5,
                input: { items: [1, 2, 3, 4, 5, 6, 7, 8] },
                resources: { desired: { cpu: 8 } },
                shard: { by: 'items', field: 'items', maxShards: 4, reassemble: 'qm.concat' },
              },
            ],
          },
          durations: { s: 40 },
        },
      ],
    });
    const qm = simulate(w, { policy: 'quartermaster' });
    expect(times(qm)).toEqual({ wide: [0, 20] });
    expect(qm.executions.map((e) => [e.key, e.nodeId, e.startedAt, e.completedAt])).toEqual([
      ['s0-wide/s#0', 'n1', 0, 20],
      ['s0-wide/s#1', 'n2', 0, 20],
    ]);
    expect(computeMetrics(qm)).toMatchObject({ shards: 2, shardedStages: 1 });
    // No sharding under fifo: the stage never runs.
    expect(computeMetrics(simulate(w, { policy: 'fifo' })).unstartedStages).toBe(1);
  });

  it('graceful degradation shrinks a low-priority run so a high-priority stage starts', () => {
    const w = workload({ cpu: 4 }, [
      {
        at: 0,
        definition: {
          name: 'low',
          stages: [
            {
              id: 's',
              handler: 'qm.sleep',
              priority: 1,
              resources: { desired: { cpu: 4 }, minimum: { cpu: 1 } },
            },
          ],
        },
        durations: { s: 100 },
      },
      job(10, 'high', 10, { cpu: 2 }, 10),
    ]);
    const qm = simulate(w, { policy: 'quartermaster' });
    // low: 10 s at full speed, then 90 s of work at 2/4 speed → ends at 10 + 180.
    expect(times(qm)).toEqual({ low: [0, 190], high: [10, 20] });
    expect(qm.executions[0]?.shrinks).toEqual([{ at: 10, cpu: 2 }]);
    expect(computeMetrics(qm).degradations).toBe(1);
    expect(times(simulate(w, { policy: 'priority' }))).toEqual({ low: [0, 100], high: [100, 110] });
  });

  it('a boost raises importance for its ttl (quartermaster only)', () => {
    const w = workload({ cpu: 2 }, [
      job(0, 'a', 5, { cpu: 2 }, 10),
      job(1, 'b', 5, { cpu: 2 }, 10),
      { ...job(2, 'c', 5, { cpu: 2 }, 10), boosts: [{ at: 2, amount: 10, ttlSeconds: 100 }] },
    ]);
    expect(times(simulate(w, { policy: 'quartermaster' }))).toEqual({ a: [0, 10], c: [10, 20], b: [20, 30] });
    expect(times(simulate(w, { policy: 'fifo' }))).toEqual({ a: [0, 10], b: [10, 20], c: [20, 30] });
  });

  it('background load is seen through the forecaster: a stage waits until the load drops', () => {
    const base = {
      cluster: { nodes: [{ id: 'n1', capacity: { cpu: 4 } }] },
      submissions: [job(30, 'x', 5, { cpu: 2 }, 10)],
    };
    expect(times(simulate(parseWorkload(base)))).toEqual({ x: [30, 40] });
    const loaded = simulate(
      parseWorkload({
        ...base,
        background: {
          n1: {
            cpu: [
              [0, 3],
              [60, 0],
            ],
          },
        },
      }),
    );
    const [start] = times(loaded).x ?? [null];
    expect(start).not.toBeNull();
    // The 3 background cores leave 1 free until the sample at 60 s shows the drop.
    expect(start as number).toBeGreaterThanOrEqual(60);
    expect(start as number).toBeLessThan(90);
  });
});

/** Σ CPU in use per node never exceeds capacity, recomputed from the executions alone. */
function maxCpuInUse(trace: SimulationTrace, w: Workload): number {
  let worst = 0;
  for (const node of w.cluster.nodes) {
    const events: Array<[number, number]> = [];
    for (const e of trace.executions.filter((x) => x.nodeId === node.id)) {
      let cpu = e.cpu;
      events.push([e.startedAt, cpu]);
      for (const s of e.shrinks) {
        events.push([s.at, s.cpu - cpu]);
        cpu = s.cpu;
      }
      events.push([e.completedAt ?? Infinity, -cpu]);
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // releases first at equal times
    let inUse = 0;
    for (const [, d] of events) {
      inUse += d;
      worst = Math.max(worst, inUse - (node.capacity.cpu ?? 0));
    }
  }
  return worst;
}

describe.each(['small-mixed', 'overload-1.5x'])('%s', (name) => {
  const w = fixture(name);
  it.each(POLICIES)('%s: never overcommits, finishes everything', (policy) => {
    const trace = simulate(w, { policy });
    const m = computeMetrics(trace);
    expect(m.overcommitEvents).toBe(0);
    expect(maxCpuInUse(trace, w)).toBeLessThanOrEqual(1e-6);
    expect(m.unstartedStages).toBe(0);
    expect(trace.pipelines.every((p) => p.completedAt !== null)).toBe(true);
  });
});

it('is deterministic: the same workload and policy give the same trace', () => {
  const w = fixture('small-mixed');
  expect(simulate(w, { policy: 'quartermaster' })).toEqual(simulate(w, { policy: 'quartermaster' }));
});

describe('starvation freedom', () => {
  // A priority-10 stage arrives every 10 s for 2,000 s on a node it fills; one priority-1 stage at 5 s.
  const stream = Array.from({ length: 200 }, (_, i) => job(i * 10, `hi${i}`, 10, { cpu: 2 }, 10));
  const w = workload({ cpu: 2 }, [...stream, job(5, 'lo', 1, { cpu: 2 }, 10)]);
  // The stream lasts 2,000 s, so the bound is shortened below it (ageSaturationSeconds 600 → 570 s).
  const scheduler = { ageSaturationSeconds: 600 };
  const waitOfLow = (policy: string): number => {
    const s = simulate(w, { policy, scheduler }).stages.find((x) => x.pipeline === 'lo');
    return (s?.startedAt ?? Infinity) - (s?.readyAt ?? 0);
  };

  it('quartermaster starts the priority-1 stage within the starvation bound plus one run', () => {
    const bound = simulate(w, { policy: 'quartermaster', scheduler }).starvationBoundSeconds;
    expect(bound).toBeCloseTo(570, 9);
    expect(waitOfLow('quartermaster')).toBeLessThanOrEqual(bound + 10);
  });

  it('strict priority starves it until the stream ends', () => {
    expect(waitOfLow('priority')).toBeGreaterThan(1900);
  });
});

describe('options', () => {
  it.each([
    [{ policy: 'lifo' }, 'UnknownPolicyError'],
    [{ tickSeconds: 0 }, 'InvalidSimulationOptionError'],
    [{ sampleIntervalSeconds: Infinity }, 'InvalidSimulationOptionError'],
    [{ forecastHorizonSeconds: 11 }, 'InvalidSimulationOptionError'],
    [{ estimateLimit: -1 }, 'InvalidSimulationOptionError'],
    [{ startLatencySeconds: -1 }, 'InvalidSimulationOptionError'],
    [{ requestLatencySeconds: Infinity }, 'InvalidSimulationOptionError'],
    [{ releaseLatencySeconds: Number.NaN }, 'InvalidSimulationOptionError'],
    [{ scheduler: { weights: { age: 0.1 } } }, 'InvalidSchedulerOptionError'],
  ])('%j is rejected with %s', (options, errorName) => {
    expect(() => simulate(fixture('order'), options)).toThrow(expect.objectContaining({ name: errorName }));
  });
});

describe('shards keep their stage’s place', () => {
  it('a stage that waited and then split passes its age to its shards', () => {
    // One 4-core node; fit and size weights 0 and holds that always go to the top blocked request, so only
    // age orders these equal-priority requests. A runs 0–100. W (8 cores: it must split into two 4-core
    // shards of 20 s) is ready at 0, C at 10, D at 50 (4 cores, 10 s each). At 100 W splits; its shards
    // count their age from 0, so they go before C and D. (Counting from 100, C and D would go first and W
    // would end at 160.)
    const wide = {
      name: 'W',
      stages: [
        {
          id: 's',
          handler: 'qm.sleep',
          priority: 5,
          input: { items: [1, 2] },
          resources: { desired: { cpu: 8 } },
          shard: { by: 'items', field: 'items', maxShards: 2, reassemble: 'qm.concat' },
        },
      ],
    };
    const w = workload({ cpu: 4 }, [
      job(0, 'A', 5, { cpu: 4 }, 100),
      { at: 0, definition: wide, durations: { s: 40 } },
      job(10, 'C', 5, { cpu: 4 }, 10),
      job(50, 'D', 5, { cpu: 4 }, 10),
    ]);
    const trace = simulate(w, {
      policy: 'quartermaster',
      scheduler: { weights: { fit: 0, size: 0 }, holdSwitchMargin: 0 },
    });
    expect(times(trace)).toEqual({ A: [0, 100], W: [100, 140], C: [140, 150], D: [150, 160] });
  });
});

describe('the starvation bound between old requests, in the simulator', () => {
  it('saturated requests start oldest first, after the stable holder; a fresh priority 10 comes after', () => {
    // One core, busy 0–5000. r1…r5 (priorities 1, 10, 3, 8, 2) arrive at 1…5 and have all waited past
    // ageSaturationSeconds (3600 here) when it frees; `hi` (priority 10) arrives at 4999. r2 (the top score
    // when it arrived) has held the core since t=2 and keeps its hold (stable holds), so it starts first;
    // then the saturated requests oldest first, each the oldest blocked one holding in its turn.
    const w = workload({ cpu: 1 }, [
      job(0, 'block', 5, { cpu: 1 }, 5000),
      job(1, 'r1', 1, { cpu: 1 }, 10),
      job(2, 'r2', 10, { cpu: 1 }, 10),
      job(3, 'r3', 3, { cpu: 1 }, 10),
      job(4, 'r4', 8, { cpu: 1 }, 10),
      job(5, 'r5', 2, { cpu: 1 }, 10),
      job(4999, 'hi', 10, { cpu: 1 }, 10),
    ]);
    const starts = Object.fromEntries(
      simulate(w, { policy: 'quartermaster', scheduler: { ageSaturationSeconds: 3600 } }).stages.map((s) => [
        s.pipeline,
        s.startedAt,
      ]),
    );
    expect(starts).toEqual({ block: 0, r2: 5000, r1: 5010, r3: 5020, r4: 5030, r5: 5040, hi: 5050 });
  });
});
