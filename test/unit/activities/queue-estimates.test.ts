import { queueWithEstimates } from '../../../activities/queue-estimates';
import type { LedgerSnapshot } from '../../../src/ledger/snapshot';
import type { ReservationRecord } from '../../../src/ledger/types';
import { DEFAULT_SCHEDULER_CONFIG } from '../../../src/scheduling/config';
import type { RankedEntry } from '../../../src/scheduling/types';
import { reservationRecord } from '../../support/records';

const now = new Date('2026-11-30T12:00:00Z');
const at = (s: number): string => new Date(now.getTime() + s * 1000).toISOString();

function reservation(key: string, extra: Partial<ReservationRecord> = {}): ReservationRecord {
  return reservationRecord(key, { requestedAt: new Date(now.getTime() - 5000), ...extra });
}

function running(
  key: string,
  grantedAgoS: number,
  extra: Partial<ReservationRecord> = {},
): ReservationRecord {
  return reservation(key, {
    state: 'running',
    nodeId: 'n1',
    granted: { cpu: 4 },
    grantedAt: new Date(now.getTime() - grantedAgoS * 1000),
    ...extra,
  });
}

function ledger(active: ReservationRecord[], pending: ReservationRecord[]): LedgerSnapshot {
  const held = active.reduce((sum, r) => sum + (r.granted?.cpu ?? 0), 0);
  return {
    now,
    nodes: [
      {
        id: 'n1',
        taskQueue: 'q1',
        capacity: { cpu: 4 },
        labels: {},
        registeredAt: now,
        lastHeartbeat: now,
        usage: null,
        forecast: null,
        usageAt: null,
        granted: { cpu: held },
        free: { cpu: 4 - held },
        stale: false,
        overcommitted: false,
      },
    ],
    pools: [],
    pending,
    active,
    boosts: [],
  };
}

function row(key: string, rank: number, decision: RankedEntry['decision'] = 'wait'): RankedEntry {
  return {
    rank,
    key,
    workflowId: `wf-${key}`,
    stageId: 's',
    shardIndex: null,
    priority: 5,
    importance: 0,
    score: 1 - rank / 10,
    breakdown: { priority: 0, importance: 0, fit: 0, age: 0 } as RankedEntry['breakdown'],
    decision,
    reason: decision,
  };
}

const estimates = (active: ReservationRecord[], pending: ReservationRecord[], keys: string[]) =>
  Object.fromEntries(
    queueWithEstimates(
      keys.map((k, i) => row(k, i + 1)),
      ledger(active, pending),
      DEFAULT_SCHEDULER_CONFIG,
    ).map((r) => [r.key, r.estimatedStartAt]),
  );

test.each<[string, ReservationRecord[], ReservationRecord[], Record<string, string | null>]>([
  [
    'a running grant ends at grantedAt + expectedSeconds; waits follow in rank order',
    [running('run', 1, { expectedSeconds: 3 })],
    [reservation('w1', { expectedSeconds: 5 }), reservation('w2')],
    { w1: at(2), w2: at(7) },
  ],
  [
    'behind a request without expectedSeconds: unknown',
    [running('run', 1, { expectedSeconds: 3 })],
    [reservation('w1'), reservation('w2', { expectedSeconds: 5 })],
    { w1: at(2), w2: null },
  ],
  [
    'behind a grant without expectedSeconds: unknown',
    [running('run', 1)],
    [reservation('w1', { expectedSeconds: 5 })],
    { w1: null },
  ],
  [
    'a reduced grant runs longer in proportion to its CPU share',
    [
      running('run', 0, {
        expectedSeconds: 3,
        granted: { cpu: 2 },
        desired: { cpu: 4 },
        minimum: { cpu: 2 },
      }),
    ],
    [reservation('w1', { desired: { cpu: 3 }, minimum: { cpu: 3 } })],
    { w1: at(6) },
  ],
  [
    'an overrun grant is expected to end now',
    [running('run', 10, { expectedSeconds: 3 })],
    [reservation('w1')],
    { w1: at(0) },
  ],
])('%s', (_what, active, pending, expected) => {
  expect(estimates(active, pending, Object.keys(expected))).toEqual(expected);
});

test('grant and shard rows are unchanged; a key no longer pending gets null', () => {
  const rows = queueWithEstimates(
    [row('g', 1, 'grant'), row('sh', 2, 'shard'), row('gone', 3)],
    ledger([running('run', 0, { expectedSeconds: 3 })], []),
    DEFAULT_SCHEDULER_CONFIG,
  );
  expect(rows[0]).not.toHaveProperty('estimatedStartAt');
  expect(rows[1]).not.toHaveProperty('estimatedStartAt');
  expect(rows[2]?.estimatedStartAt).toBeNull();
});

test('at most `limit` waiting rows are estimated', () => {
  const rows = queueWithEstimates(
    [row('w1', 1), row('w2', 2)],
    ledger(
      [],
      [
        reservation('w1', { expectedSeconds: 1, desired: { cpu: 1 }, minimum: { cpu: 1 } }),
        reservation('w2', { desired: { cpu: 1 }, minimum: { cpu: 1 } }),
      ],
    ),
    DEFAULT_SCHEDULER_CONFIG,
    1,
  );
  expect(rows.map((r) => r.estimatedStartAt)).toEqual([at(0), null]);
});

describe('learned run times (filled in by the ledger snapshot) go through the same projection', () => {
  const learned = (seconds: number, samples = 7) => ({ learned: { seconds, samples } });
  test.each<[string, ReservationRecord[], ReservationRecord[], Record<string, string | null>]>([
    [
      'a running grant with a learned run time ends at grantedAt + learned seconds',
      [running('run', 1, learned(3))],
      [reservation('w1', learned(5)), reservation('w2')],
      { w1: at(2), w2: at(7) },
    ],
    [
      'an overrun of a learned run time is expected to end now, as a declared one',
      [running('run', 10, learned(3))],
      [reservation('w1')],
      { w1: at(0) },
    ],
    [
      'a declared run time wins over a learned one',
      [running('run', 1, { expectedSeconds: 3, ...learned(300) })],
      [reservation('w1')],
      { w1: at(2) },
    ],
  ])('%s', (_what, active, pending, expected) => {
    expect(estimates(active, pending, Object.keys(expected))).toEqual(expected);
  });

  test('each waiting row says what run time it assumed and where it came from', () => {
    const rows = queueWithEstimates(
      [row('w1', 1), row('w2', 2), row('w3', 3)],
      ledger(
        [running('run', 1, { expectedSeconds: 3 })],
        [reservation('w1', learned(130, 14)), reservation('w2', { expectedSeconds: 5 }), reservation('w3')],
      ),
      DEFAULT_SCHEDULER_CONFIG,
    );
    expect(rows.map((r) => [r.key, r.expectedSeconds, r.expectedSource, r.expectedSamples])).toEqual([
      ['w1', 130, 'learned', 14],
      ['w2', 5, 'declared', undefined],
      ['w3', undefined, undefined, undefined],
    ]);
  });
});
