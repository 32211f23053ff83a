import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ActivityObserver } from '../../../src/metrics/activity-observer';
import { QuartermasterMetrics } from '../../../src/metrics/quartermaster-metrics';
import { valueOf } from './values';

type Ctx = Parameters<ActivityInterceptorsFactory>[0];

function harness(withMetrics = true) {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    void lines.push([level, message, meta]);
  const metrics = withMetrics ? new QuartermasterMetrics({ processMetrics: false }) : undefined;
  const observer = new ActivityObserver({
    ...(metrics ? { metrics } : {}),
    isKnownHandler: (name) => name === 'qm.sleep',
  });
  const run = async (activityType: string, arg: unknown, next: () => Promise<unknown>, aborted = false) => {
    const ctx = {
      info: { activityType },
      log: {
        trace: log('TRACE'),
        debug: log('DEBUG'),
        info: log('INFO'),
        warn: log('WARN'),
        error: log('ERROR'),
      },
      cancellationSignal: { aborted },
    } as unknown as Ctx;
    const execute = observer.factory(ctx).inbound?.execute;
    if (!execute) throw new Error('no inbound interceptor');
    return execute({ args: [arg], headers: {} }, next);
  };
  return { run, lines, metrics };
}

test('runStage: outcome by handler; an unregistered name is labelled unknown; errors pass through', async () => {
  const { run, metrics } = harness();
  const r = metrics?.registry;
  if (!r) throw new Error('metrics');
  await expect(
    run('runStage', { handler: 'qm.sleep' }, () => Promise.resolve({ output: 1 })),
  ).resolves.toEqual({ output: 1 });
  await expect(
    run('runStage', { handler: 'wf-123-ad-hoc' }, () => Promise.reject(new Error('x'))),
  ).rejects.toThrow('x');
  const cancelled = Object.assign(new Error('c'), { name: 'CancelledFailure' });
  await expect(run('runStage', { handler: 'qm.sleep' }, () => Promise.reject(cancelled))).rejects.toBe(
    cancelled,
  );
  expect(
    await valueOf(r, 'quartermaster_stage_runs_total', { handler: 'qm.sleep', outcome: 'succeeded' }),
  ).toBe(1);
  expect(await valueOf(r, 'quartermaster_stage_runs_total', { handler: 'unknown', outcome: 'failed' })).toBe(
    1,
  );
  expect(
    await valueOf(r, 'quartermaster_stage_runs_total', { handler: 'qm.sleep', outcome: 'cancelled' }),
  ).toBe(1);
  expect(await r.metrics()).not.toContain('wf-123');
});

test('awaitReservation: each grant counted once per key by path, with its wait and an info line; shard orders by path', async () => {
  const { run, metrics, lines } = harness();
  const req = { key: 'k1', workflowId: 'wf-1', stageId: 's', priority: 9 };
  const fast = { kind: 'grant', key: 'k1', nodeId: 'n1', reduced: true, fast: true, waitSeconds: 0 };
  await run('awaitReservation', req, () => Promise.resolve(fast));
  await run('awaitReservation', req, () => Promise.resolve(fast)); // an activity retry: same key
  const waited = { kind: 'grant', key: 'k2~1', nodeId: 'n2', reduced: false, fast: false, waitSeconds: 12.5 };
  await run('awaitReservation', { ...req, key: 'k2', priority: 2 }, () => Promise.resolve(waited));
  await run('awaitReservation', { ...req, key: 'k3' }, () => Promise.resolve({ kind: 'shard', fast: true }));
  await run('awaitReservation', { ...req, key: 'k4' }, () => Promise.resolve({ kind: 'shard', fast: false }));
  const r = metrics?.registry;
  if (!r) throw new Error('metrics');
  expect(await valueOf(r, 'quartermaster_admissions_total', { path: 'fast', priority_band: 'high' })).toBe(1);
  expect(await valueOf(r, 'quartermaster_admissions_total', { path: 'cycle', priority_band: 'low' })).toBe(1);
  expect(
    await valueOf(r, 'quartermaster_reduced_grants_total', { path: 'fast', priority_band: 'high' }),
  ).toBe(1);
  expect(await valueOf(r, 'quartermaster_admission_wait_seconds_sum', { priority_band: 'low' })).toBe(12.5);
  expect(await valueOf(r, 'quartermaster_shard_decisions_total', { path: 'fast' })).toBe(1);
  expect(await valueOf(r, 'quartermaster_shard_decisions_total', { path: 'cycle' })).toBe(1);
  expect(lines.filter(([, m]) => m === 'stage granted')).toEqual([
    [
      'INFO',
      'stage granted',
      expect.objectContaining({ workflowId: 'wf-1', nodeId: 'n1', path: 'fast', waitSeconds: 0 }),
    ],
    ['INFO', 'stage granted', expect.objectContaining({ key: 'k2~1', path: 'cycle', waitSeconds: 12.5 })],
  ]);
});

test('scheduleCycle without metrics: one debug line per cycle with its decisions and top row', async () => {
  const { run, lines } = harness(false);
  const report = {
    granted: 1,
    rejected: 0,
    waiting: 1,
    expired: 0,
    shrinkOffers: 0,
    durationMs: 7,
    queue: [
      { key: 'a', workflowId: 'wf-a', stageId: 's', priority: 8, decision: 'grant', reason: 'granted on n1' },
      { key: 'b', workflowId: 'wf-b', stageId: 's', priority: 2, decision: 'wait', reason: '0 free' },
    ],
  };
  await run('scheduleCycle', undefined, () => Promise.resolve(report));
  expect(lines).toEqual([
    [
      'DEBUG',
      'scheduling cycle',
      expect.objectContaining({
        cycleMs: 7,
        granted: 1,
        waiting: 1,
        decisions: { grant: 1, shard: 0, wait: 1 },
        top: expect.objectContaining({ workflowId: 'wf-a' }),
      }),
    ],
  ]);
});

test('scheduleCycle that throws: counted as failed, rethrown unchanged; other activities untouched', async () => {
  const { run, metrics } = harness();
  const err = new Error('db down');
  await expect(run('scheduleCycle', undefined, () => Promise.reject(err))).rejects.toBe(err);
  await expect(run('releaseReservation', 'k', () => Promise.resolve('ok'))).resolves.toBe('ok');
  const r = metrics?.registry;
  if (!r) throw new Error('metrics');
  expect(await valueOf(r, 'quartermaster_cycles_total', { outcome: 'failed' })).toBe(1);
});
