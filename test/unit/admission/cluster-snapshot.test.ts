import {
  boostFor,
  forecastUsage,
  isolateBadRows,
  successorTails,
  toClusterSnapshot,
} from '../../../src/admission/cluster-snapshot';
import { compileSchedulerConfig } from '../../../src/scheduling/config';
import { runCycle } from '../../../src/scheduling/cycle';
import type { PendingRequest } from '../../../src/scheduling/types';
import type { LedgerSnapshot } from '../../../src/ledger/snapshot';
import type { ReservationRecord } from '../../../src/ledger/types';
import { reservationRecord } from '../../support/records';

const now = new Date('2026-11-30T12:00:00Z');
const ago = (ms: number): Date => new Date(now.getTime() - ms);

function reservation(
  key: string,
  workflowId: string,
  extra: Partial<ReservationRecord> = {},
): ReservationRecord {
  return reservationRecord(key, {
    workflowId,
    importance: 1,
    desired: { cpu: 2 },
    minimum: { cpu: 1 },
    requestedAt: ago(5000),
    ...extra,
  });
}

const forecast = {
  '5': { cpu: { value: 1, lower: 0.5, upper: 1.5 } },
  '10': {
    cpu: { value: 1.2, lower: 0.6, upper: 2 },
    memoryMb: { value: 100, lower: 50, upper: 150 },
    gpus: 'ignored',
  },
};

const ledger = {
  now,
  nodes: [
    {
      id: 'n1',
      taskQueue: 'q1',
      capacity: { cpu: 4 },
      labels: {},
      registeredAt: ago(60_000),
      lastHeartbeat: ago(1000),
      usage: null,
      forecast,
      usageAt: ago(1000),
      granted: { cpu: 1 },
      free: { cpu: 3 },
      stale: false,
    },
    {
      id: 'n2',
      taskQueue: 'q2',
      capacity: { cpu: 8 },
      labels: {},
      registeredAt: ago(60_000),
      lastHeartbeat: ago(90_000),
      usage: null,
      forecast,
      usageAt: ago(90_000),
      granted: {},
      free: { cpu: 8 },
      stale: true,
    },
  ],
  pools: [{ name: 'db', capacity: 10, granted: 3, free: 7, updatedAt: ago(1) }],
  pending: [reservation('a', 'pipe-1'), reservation('b', 'pipe-1/crunch/shard-3'), reservation('c', 'other')],
  active: [reservation('d', 'pipe-2', { state: 'running', nodeId: 'n1', granted: { cpu: 1 } })],
  boosts: [
    {
      id: 1,
      workflowId: 'pipe-1',
      amount: 2,
      reason: 'r',
      actor: 'a',
      createdAt: ago(1),
      expiresAt: new Date(now.getTime() + 60_000),
    },
    {
      id: 2,
      workflowId: 'pipe-1',
      amount: 1,
      reason: 'r',
      actor: 'a',
      createdAt: ago(1),
      expiresAt: new Date(now.getTime() + 60_000),
    },
    {
      id: 3,
      workflowId: 'pipe-2',
      amount: 4,
      reason: 'r',
      actor: 'a',
      createdAt: ago(1),
      expiresAt: new Date(now.getTime() + 60_000),
    },
  ],
} as unknown as LedgerSnapshot;

test('maps nodes, pools, pending and running; importance = declared + boosts (a pipeline boost lifts its shards)', () => {
  const c = toClusterSnapshot(ledger);
  expect(c.nodes.map((n) => [n.id, n.stale, n.granted])).toEqual([
    ['n1', false, { cpu: 1 }],
    ['n2', true, {}],
  ]);
  expect(c.nodes[0]?.forecastUsage).toEqual({
    cpu: { value: 1.2, upper: 2 },
    memoryMb: { value: 100, upper: 150 },
  });
  expect(c.nodes[1]?.forecastUsage).toBeUndefined(); // 90 s old: the monitor stopped
  expect(c.pools).toEqual([{ name: 'db', capacity: 10, granted: 3 }]);
  expect(c.pending.map((p) => [p.key, p.importance])).toEqual([
    ['a', 4],
    ['b', 4],
    ['c', 1],
  ]);
  expect(c.running).toEqual([expect.objectContaining({ key: 'd', nodeId: 'n1', importance: 5 })]);
});

test.each([
  ['pipe', 5],
  ['pipe/stage/shard-12', 7],
  ['pipe/stage/shard-x', 0],
  ['unrelated', 0],
])('boostFor(%s) = %d', (id, expected) => {
  expect(
    boostFor(
      id,
      new Map([
        ['pipe', 5],
        ['pipe/stage/shard-12', 2],
      ]),
    ),
  ).toBe(expected);
});

test('forecastUsage ignores missing, stale, malformed or other-horizon forecasts', () => {
  expect(forecastUsage(forecast, ago(0), now, 30_000, 5)).toEqual({ cpu: { value: 1, upper: 1.5 } });
  expect(forecastUsage(null, ago(0), now, 30_000)).toBeUndefined();
  expect(forecastUsage(forecast, null, now, 30_000)).toBeUndefined();
  expect(forecastUsage({ '10': { cpu: { value: 'x' } } }, ago(0), now, 30_000)).toBeUndefined();
});

test('expected run times reach the core: pending expectedSeconds, running expectedEndAt (stretched when reduced)', () => {
  const c = toClusterSnapshot({
    ...ledger,
    pending: [
      reservation('p', 'w', { expectedSeconds: 30 }),
      reservation('q', 'w', { expectedSeconds: null }),
    ],
    active: [
      // Full grant, granted 10 s ago, expected 60 s: ends in 50 s.
      reservation('full', 'w', {
        state: 'running',
        nodeId: 'n1',
        granted: { cpu: 2 },
        grantedAt: ago(10_000),
        expectedSeconds: 60,
      }),
      // Half its desired cpu: 60 s of work take 120 s.
      reservation('half', 'w', {
        state: 'running',
        nodeId: 'n1',
        granted: { cpu: 1 },
        grantedAt: ago(10_000),
        expectedSeconds: 60,
      }),
      reservation('unknown', 'w', {
        state: 'running',
        nodeId: 'n1',
        granted: { cpu: 1 },
        grantedAt: ago(10_000),
        expectedSeconds: null,
      }),
    ],
  } as LedgerSnapshot);
  expect(c.pending.map((p) => p.expectedSeconds)).toEqual([30, undefined]);
  expect(c.pending[1]).not.toHaveProperty('expectedSeconds');
  const ends = Object.fromEntries(c.running.map((g) => [g.key, g.expectedEndAt?.getTime()]));
  expect(ends).toEqual({
    full: now.getTime() + 50_000,
    half: now.getTime() + 110_000,
    unknown: undefined,
  });
});

test('an overcommitted node (re-registered below its grants) is unusable: nothing new is granted there', () => {
  const n1 = ledger.nodes[0] as LedgerSnapshot['nodes'][number];
  const c = toClusterSnapshot({ ...ledger, nodes: [{ ...n1, overcommitted: true }] });
  expect(c.nodes.map((n) => [n.id, n.stale])).toEqual([['n1', true]]);
});

test('a request carries the node it should avoid', () => {
  const r = ledger.pending[0] as ReservationRecord;
  const c = toClusterSnapshot({ ...ledger, pending: [{ ...r, avoidNode: 'n1' }] });
  expect(c.pending[0]?.avoidNodeId).toBe('n1');
});

test('negative or non-finite forecasts are ignored, never trusted', () => {
  const at = new Date(ledger.now.getTime() - 1000);
  expect(forecastUsage({ 10: { cpu: { value: -3, upper: -1 } } }, at, ledger.now, 30_000)).toBeUndefined();
  expect(
    forecastUsage({ 10: { cpu: { value: 1, upper: Infinity } } }, at, ledger.now, 30_000),
  ).toBeUndefined();
  expect(forecastUsage({ 10: { cpu: { value: 1, upper: 2 } } }, at, ledger.now, 30_000)).toEqual({
    cpu: { value: 1, upper: 2 },
  });
});

describe('isolateBadRows', () => {
  const base = toClusterSnapshot(ledger);
  const bad = {
    ...base,
    pending: [...base.pending, { ...(base.pending[0] as PendingRequest), key: 'bad', priority: 42 }],
  };
  it('drops the row the core names and decides the rest', () => {
    const { result, dropped } = isolateBadRows(bad, (c) => runCycle(c, ledger.now, compileSchedulerConfig()));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toContain('pending[');
    expect(result.decisions.map((d) => d.key)).not.toContain('bad');
    expect(result.decisions).toHaveLength(base.pending.length);
  });
  it('rethrows what names no row, and stops after maxDrops', () => {
    expect(() =>
      isolateBadRows(base, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(() => isolateBadRows(bad, (c) => runCycle(c, ledger.now, compileSchedulerConfig()), 0)).toThrow(
      /priority/,
    );
  });
});

test('successor chains: followed grants project no release, successors are no running grants, tails carry the chain end', () => {
  const held = { state: 'running' as const, nodeId: 'n1', granted: { cpu: 2 }, desired: { cpu: 2 } };
  const chain = {
    ...ledger,
    pending: [],
    active: [
      // Started 100 ms ago, runs 0.3 s: ends in 200 ms.
      reservation('p', 'w', { ...held, grantedAt: ago(900), startedAt: ago(100), expectedSeconds: 0.3 }),
      reservation('s1', 'w', {
        ...held,
        state: 'granted',
        grantedAt: ago(50),
        behind: 'p',
        expectedSeconds: 0.3,
      }),
      reservation('s2', 'w', {
        ...held,
        state: 'granted',
        grantedAt: ago(10),
        behind: 's1',
        expectedSeconds: 0.5,
      }),
      // A chain link of unknown run time: nothing can be projected behind it.
      reservation('q', 'w', { ...held, grantedAt: ago(100), startedAt: ago(100), expectedSeconds: 1 }),
      reservation('t', 'w', {
        ...held,
        state: 'granted',
        grantedAt: ago(10),
        behind: 'q',
        expectedSeconds: null,
      }),
    ],
  } as LedgerSnapshot;
  const c = toClusterSnapshot(chain);
  expect(c.running.map((g) => [g.key, g.expectedEndAt?.getTime()])).toEqual([
    ['p', undefined],
    ['q', undefined],
  ]);
  expect(successorTails(chain).map((g) => [g.key, g.expectedEndAt?.getTime()])).toEqual([
    ['s2', now.getTime() + 200 + 300 + 500],
    ['t', undefined],
  ]);
});
