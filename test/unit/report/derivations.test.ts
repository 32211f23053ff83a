/** The report's data derivations: lanes, queue and waits by band, granted per node, estimate accuracy. */
import { estimateAccuracy, errorStats } from '../../../src/report/accuracy';
import { accuracyChart } from '../../../src/report/accuracy-chart';
import { capacitySeries, grantedSeries } from '../../../src/report/capacity-series';
import { assignLanes } from '../../../src/report/lanes';
import { queueLengthSeries, waitPoints } from '../../../src/report/queue-series';
import { timeStep } from '../../../src/report/palette';
import { at, rec } from './records';

const O = at(0);

describe('assignLanes', () => {
  it.each([
    ['one bar', [[0, 10]], [0], 1],
    [
      'back to back share a lane',
      [
        [0, 10],
        [10, 20],
      ],
      [0, 0],
      1,
    ],
    [
      'overlap opens a lane',
      [
        [0, 10],
        [5, 15],
      ],
      [0, 1],
      2,
    ],
    [
      'a freed lane is reused, lowest first',
      [
        [0, 10],
        [0, 20],
        [12, 15],
        [21, 30],
      ],
      [0, 1, 0, 0],
      2,
    ],
    [
      'three at once',
      [
        [0, 5],
        [1, 5],
        [2, 5],
        [5, 6],
      ],
      [0, 1, 2, 0],
      3,
    ],
  ] as const)('%s', (_label, spans, lanes, count) => {
    const records = spans.map(([s, e], i) => rec({ workflowId: `w${i}`, started: s, ended: e }));
    const [node] = assignLanes(records, O);
    expect(node?.laneCount).toBe(count);
    const byWorkflow = new Map(node?.bars.map((b) => [b.record.workflowId, b.lane]));
    expect(spans.map((_, i) => byWorkflow.get(`w${i}`))).toEqual(lanes);
  });

  it('keeps nodes in the given order, adds unknown ones sorted, then executions without a node', () => {
    const records = [
      rec({ nodeId: 'z' }),
      rec({ nodeId: 'b' }),
      rec({ nodeId: null }),
      rec({ nodeId: 'n2', started: null }), // never started: no bar, no node entry from it
    ];
    const nodes = assignLanes(records, O, ['n1', 'b']);
    expect(nodes.map((n) => [n.nodeId, n.bars.length, n.laneCount])).toEqual([
      ['n1', 0, 1],
      ['b', 1, 1],
      ['z', 1, 1],
      [null, 1, 1],
    ]);
  });

  it('measures bars from the origin', () => {
    const [node] = assignLanes([rec({ requested: 100, started: 110, ended: 130 })], at(100));
    expect(node?.bars[0]).toMatchObject({ start: 10, end: 30, lane: 0 });
  });
});

describe('queueLengthSeries and waitPoints', () => {
  it('counts waiting executions per band as a step series', () => {
    const records = [
      rec({ priority: 9, requested: 0, started: 5 }), // high waits 0–5
      rec({ priority: 5, requested: 2, started: 5 }), // mid waits 2–5
      rec({ priority: 1, requested: 2, started: 8 }), // low waits 2–8
      rec({ priority: 2, requested: 3, started: 3 }), // never waited: no change
      rec({ priority: 6, requested: 4, started: null, grantedAt: null, ended: 6, outcome: 'cancelled' }), // 4–6
    ];
    expect(queueLengthSeries(records, O)).toEqual([
      { t: 0, waiting: { high: 1, mid: 0, low: 0 } },
      { t: 2, waiting: { high: 1, mid: 1, low: 1 } },
      { t: 4, waiting: { high: 1, mid: 2, low: 1 } },
      { t: 5, waiting: { high: 0, mid: 1, low: 1 } },
      { t: 6, waiting: { high: 0, mid: 0, low: 1 } },
      { t: 8, waiting: { high: 0, mid: 0, low: 0 } },
    ]);
  });

  it('nets arrivals and departures at the same instant', () => {
    const records = [rec({ requested: 0, started: 5 }), rec({ workflowId: 'w2', requested: 5, started: 9 })];
    expect(queueLengthSeries(records, O)).toEqual([
      { t: 0, waiting: { high: 0, mid: 1, low: 0 } },
      { t: 9, waiting: { high: 0, mid: 0, low: 0 } },
    ]);
  });

  it('is empty without records', () => {
    expect(queueLengthSeries([], O)).toEqual([]);
  });

  it.each([
    ['started', rec({ priority: 9, requested: 1, grantedAt: 4, started: 6 }), 6, 5, 'high'],
    [
      'granted, never started',
      rec({ priority: 4, requested: 1, grantedAt: 3, started: null, ended: 9 }),
      3,
      2,
      'mid',
    ],
    [
      'never granted',
      rec({ priority: 3, requested: 1, started: null, grantedAt: null, ended: 7 }),
      7,
      6,
      'low',
    ],
  ] as const)('wait of a record %s', (_label, r, t, wait, band) => {
    expect(waitPoints([r], O)).toEqual([{ t, waitSeconds: wait, band, record: r }]);
  });
});

describe('grantedSeries and capacitySeries', () => {
  const records = [
    rec({ nodeId: 'n1', granted: { cpu: 2, memoryMb: 100 }, grantedAt: 0, started: 1, ended: 10 }),
    rec({ nodeId: 'n1', granted: { cpu: 1.5 }, started: 5, ended: 10 }),
    rec({ nodeId: 'n2', granted: { cpu: 4, 'db-connections': 1 }, started: 2, ended: 4 }),
    rec({ nodeId: 'n1', granted: null, started: null, grantedAt: null, ended: 3, outcome: 'expired' }),
  ];

  it('sums the grants on a node from grant to end', () => {
    expect(grantedSeries(records, O, 'n1', 'cpu')).toEqual([
      { t: 0, value: 2 },
      { t: 5, value: 3.5 },
      { t: 10, value: 0 },
    ]);
    expect(grantedSeries(records, O, 'n2', 'memoryMb')).toEqual([]);
  });

  it('lists host resources per node (pools left out); samples are split into used and forecast', () => {
    const series = capacitySeries(
      records,
      O,
      [{ id: 'n2', capacity: { cpu: 8 } }],
      [
        { nodeId: 'n2', at: at(3), resource: 'cpu', used: 3.5, forecast: null },
        { nodeId: 'n2', at: at(1), resource: 'cpu', used: 1, forecast: 2 },
      ],
    );
    expect(series.map((s) => [s.nodeId, s.resource, s.capacity])).toEqual([
      ['n2', 'cpu', 8],
      ['n1', 'cpu', null],
      ['n1', 'memoryMb', null],
    ]);
    expect(series[0]?.used).toEqual([
      { t: 1, value: 1 },
      { t: 3, value: 3.5 },
    ]);
    expect(series[0]?.forecast).toEqual([{ t: 1, value: 2 }]);
    expect(series[1]?.used).toEqual([]);
  });
});

describe('estimateAccuracy', () => {
  it('groups by definition and stage, with start and run-time errors', () => {
    const rows = estimateAccuracy([
      // started 4 s late, ran 12 s of a declared 10
      rec({ stageId: 'a', requested: 0, estimatedStart: 6, started: 10, ended: 22, expectedSeconds: 10 }),
      // started 2 s early, ran 8 of 10
      rec({ stageId: 'a', requested: 0, estimatedStart: 12, started: 10, ended: 18, expectedSeconds: 10 }),
      // failed: its run time is not compared; no estimate
      rec({ stageId: 'a', started: 0, ended: 3, expectedSeconds: 10, outcome: 'failed' }),
      rec({ definitionName: 'other', stageId: 'b' }),
    ]);
    expect(rows.map((r) => r.key)).toEqual(['etl/a', 'other/b']);
    expect(rows[0]).toMatchObject({
      records: 3,
      handlers: ['qm.sleep'],
      start: { count: 2, meanAbsSeconds: 3, meanSeconds: 1, p95AbsSeconds: 4 },
      runTime: { count: 2, meanAbsSeconds: 2, meanSeconds: 0, p95AbsSeconds: 2 },
    });
    expect(rows[1]).toMatchObject({ records: 1, start: null, runTime: null, learnedRunTime: null });
  });

  it('splits run-time errors by prediction source, at the granted CPU share', () => {
    const rows = estimateAccuracy([
      // declared 10 s, ran 12
      rec({ stageId: 'a', started: 0, ended: 12, expectedSeconds: 10 }),
      // learned 10 s at desired, granted half the CPU: 20 s expected, ran 24
      rec({
        stageId: 'a',
        started: 0,
        ended: 24,
        desired: { cpu: 2 },
        granted: { cpu: 1 },
        predictedSeconds: 10,
        predictedSource: 'learned',
      }),
      // learned 10 s, ran 7
      rec({ stageId: 'a', started: 0, ended: 7, predictedSeconds: 10, predictedSource: 'learned' }),
      // no prediction: not counted
      rec({ stageId: 'a', started: 0, ended: 7 }),
    ]);
    expect(rows[0]).toMatchObject({
      runTime: { count: 1, meanAbsSeconds: 2, meanSeconds: 2 },
      learnedRunTime: { count: 2, meanAbsSeconds: 3.5, meanSeconds: 0.5 },
    });
  });

  it.each([
    [[], null],
    [[-3], { count: 1, meanAbsSeconds: 3, meanSeconds: -3, p95AbsSeconds: 3 }],
    [[1, -1, 4, 2], { count: 4, meanAbsSeconds: 2, meanSeconds: 1.5, p95AbsSeconds: 4 }],
  ])('errorStats(%j)', (errors, expected) => {
    expect(errorStats(errors)).toEqual(expected);
  });
});

describe('timeStep', () => {
  it.each([
    [5, 1],
    [60, 10],
    [100, 15],
    [1_000, 300],
    [3_600, 600],
    [20_000, 3_600],
    [2_000_000, 259_200],
  ])('%d s → ticks every %d s', (end, step) => {
    expect(timeStep(end)).toBe(step);
  });
});

describe('accuracyChart', () => {
  const names = (records: Parameters<typeof estimateAccuracy>[0]): string[] => {
    const spec = accuracyChart(estimateAccuracy(records), 't');
    const series = (spec?.option.series ?? []) as Array<{ name?: string }>;
    return series.map((x) => x.name ?? '');
  };

  it('labels declared and learned run-time errors; learned only when some key has it', () => {
    expect(names([rec({ expectedSeconds: 10 })])).toEqual([
      'start estimate: mean |error|',
      'declared run time: mean |error|',
    ]);
    expect(names([rec({ predictedSeconds: 10, predictedSource: 'learned' })])).toEqual([
      'start estimate: mean |error|',
      'declared run time: mean |error|',
      'learned run time: mean |error|',
    ]);
  });
});
