import type { CycleReport } from '../../../src/admission/types';
import {
  QuartermasterMetrics,
  type CycleQueueRow,
  type CycleSummary,
} from '../../../src/metrics/quartermaster-metrics';
import { valueOf } from './values';

// The admission code's report must keep fitting what the metrics read (a compile-time check: if the
// scheduler's CycleReport drifts, `npm run typecheck` fails here).
const fits: (r: CycleReport) => CycleSummary = (r) => r;
void fits;

function row(decision: string, priority = 5): CycleQueueRow {
  return { key: `k-${Math.random()}`, workflowId: 'wf', stageId: 's', priority, decision, reason: '' };
}
function report(partial: Partial<CycleSummary>): CycleSummary {
  return {
    granted: 0,
    rejected: 0,
    waiting: 0,
    expired: 0,
    shrinkOffers: 0,
    queue: [],
    durationMs: 1,
    ...partial,
  };
}

let m: QuartermasterMetrics;
beforeEach(() => {
  m = new QuartermasterMetrics({ processMetrics: false });
});

test('every bounded label combination is exported at 0 before any event', async () => {
  for (const outcome of ['granted', 'waiting', 'idle', 'failed'])
    expect(await valueOf(m.registry, 'quartermaster_cycles_total', { outcome })).toBe(0);
  for (const path of ['fast', 'cycle'])
    for (const priority_band of ['low', 'normal', 'high'])
      expect(await valueOf(m.registry, 'quartermaster_admissions_total', { path, priority_band })).toBe(0);
  expect(
    await valueOf(m.registry, 'quartermaster_admission_wait_seconds_count', { priority_band: 'high' }),
  ).toBe(0);
  expect(await valueOf(m.registry, 'quartermaster_shrink_accepts_total')).toBe(0);
});

test.each([
  [report({ granted: 2, waiting: 1 }), 'granted'],
  [report({ waiting: 3 }), 'waiting'],
  [report({ rejected: 1 }), 'waiting'],
  [report({}), 'idle'],
])('cycle %p counts as %p', async (r, outcome) => {
  m.observeCycle(r, 0.02);
  expect(await valueOf(m.registry, 'quartermaster_cycles_total', { outcome })).toBe(1);
  expect(await valueOf(m.registry, 'quartermaster_cycle_duration_seconds_count')).toBe(1);
});

test('a cycle adds its rejections, expiries and shrink offers; shard decisions are counted where they are learned', async () => {
  m.observeCycle(
    report({ rejected: 2, expired: 3, shrinkOffers: 4, queue: [row('shard'), row('grant'), row('shard')] }),
    0.01,
  );
  m.observeFailedCycle(0.5);
  expect(await valueOf(m.registry, 'quartermaster_commit_rejections_total')).toBe(2);
  expect(await valueOf(m.registry, 'quartermaster_lease_expiries_total')).toBe(3);
  expect(await valueOf(m.registry, 'quartermaster_shrink_offers_total')).toBe(4);
  m.observeCycleShard();
  expect(await valueOf(m.registry, 'quartermaster_shard_decisions_total', { path: 'cycle' })).toBe(1);
  expect(await valueOf(m.registry, 'quartermaster_cycles_total', { outcome: 'failed' })).toBe(1);
  expect(await valueOf(m.registry, 'quartermaster_cycle_duration_seconds_sum')).toBeCloseTo(0.51);
});

test('grants count by path and band, reduced ones twice, and their wait is observed', async () => {
  m.observeGrant('fast', { priority: 9, waitSeconds: 0, reduced: false });
  m.observeGrant('cycle', { priority: 2, waitSeconds: 12, reduced: true });
  m.observeGrant('cycle', { priority: 2, waitSeconds: -1, reduced: false }); // clock skew: clamped to 0
  expect(
    await valueOf(m.registry, 'quartermaster_admissions_total', { path: 'fast', priority_band: 'high' }),
  ).toBe(1);
  expect(
    await valueOf(m.registry, 'quartermaster_admissions_total', { path: 'cycle', priority_band: 'low' }),
  ).toBe(2);
  expect(
    await valueOf(m.registry, 'quartermaster_reduced_grants_total', { path: 'cycle', priority_band: 'low' }),
  ).toBe(1);
  expect(
    await valueOf(m.registry, 'quartermaster_admission_wait_seconds_sum', { priority_band: 'low' }),
  ).toBe(12);
  expect(
    await valueOf(m.registry, 'quartermaster_admission_wait_seconds_count', { priority_band: 'low' }),
  ).toBe(2);
});

test('ledger transactions: latency by operation and outcome; only a committed accept with a result is an accept', async () => {
  m.observeTransaction({
    operation: 'accept shrink',
    seconds: 0.002,
    outcome: 'committed',
    result: { result: {} },
  });
  m.observeTransaction({
    operation: 'accept shrink',
    seconds: 0.002,
    outcome: 'committed',
    result: { stale: {} },
  });
  m.observeTransaction({ operation: 'accept shrink', seconds: 0.002, outcome: 'rolled-back' });
  m.observeTransaction({
    operation: 'release reservation',
    seconds: 0.001,
    outcome: 'committed',
    result: { result: 1 },
  });
  expect(await valueOf(m.registry, 'quartermaster_shrink_accepts_total')).toBe(1);
  expect(
    await valueOf(m.registry, 'quartermaster_ledger_transaction_duration_seconds_count', {
      operation: 'accept shrink',
      outcome: 'committed',
    }),
  ).toBe(2);
});

test('the exposition text follows the naming conventions', async () => {
  m.observeStage('qm.sleep', 'succeeded', 1);
  m.setForecastError('n1', 'cpu', 5, 0.25);
  const text = await m.text();
  const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1] as string, x[2] as string]);
  expect(names.length).toBeGreaterThan(10);
  for (const [name, type] of names) {
    expect(name).toMatch(/^quartermaster_[a-z_]+$/);
    if (type === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).not.toMatch(/_total$/);
    if (type === 'histogram') expect(name).toMatch(/_seconds$/);
  }
  expect(text).toContain(
    'quartermaster_forecast_absolute_error{node="n1",resource="cpu",horizon_seconds="5"} 0.25',
  );
});

test('process metrics are on by default, without the _total gauges promtool rejects', async () => {
  const text = await new QuartermasterMetrics().text();
  expect(text).toContain('process_cpu_user_seconds_total');
  expect(text).not.toMatch(/^nodejs_active_handles_total/m);
});
