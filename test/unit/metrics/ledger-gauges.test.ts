import { Registry } from 'prom-client';
import type { LedgerMetrics } from '../../../src/ledger/metrics-queries';
import { forecastPoints, registerLedgerGauges, usagePoints } from '../../../src/metrics/ledger-gauges';
import { valueOf } from './values';

const ledger: LedgerMetrics = {
  pendingByPriority: [
    { priority: 1, count: 2, oldestSeconds: 30 },
    { priority: 3, count: 1, oldestSeconds: 50 },
    { priority: 9, count: 4, oldestSeconds: 5 },
  ],
  reservationsByState: { pending: 7, running: 2, expired: 1 },
  nodes: [
    {
      id: 'n1',
      capacity: { cpu: 8, memoryMb: 4096 },
      granted: { cpu: 3, 'db-connections': 2 },
      heartbeatAgeSeconds: 1.5,
      usage: {
        cpu: 2.5,
        cpuCores: 8,
        memoryMb: 1000,
        memoryTotalMb: 4096,
        diskIoMBps: null,
        netMbps: 1,
        gpus: null,
      },
      forecast: {
        '5': { cpu: { value: 2, lower: 1, upper: 3 } },
        '10': { cpu: { value: 2, lower: 1, upper: 4 }, gpus: [] },
      },
    },
  ],
  pools: [{ name: 'db-connections', capacity: 20, granted: 2 }],
  boosts: { active: 2, amount: 1.5 },
  shrinkOffersOpen: 1,
};

test('the gauges mirror one ledger read', async () => {
  const registry = new Registry();
  const read = jest.fn(() => Promise.resolve(ledger));
  registerLedgerGauges(registry, { read });
  const v = (name: string, labels: Record<string, string> = {}) => valueOf(registry, name, labels);
  expect(await v('quartermaster_pending_requests', { priority_band: 'low' })).toBe(3);
  expect(await v('quartermaster_pending_requests', { priority_band: 'normal' })).toBe(0);
  expect(await v('quartermaster_pending_requests', { priority_band: 'high' })).toBe(4);
  expect(await v('quartermaster_pending_oldest_age_seconds', { priority_band: 'low' })).toBe(50);
  expect(await v('quartermaster_pending_oldest_age_seconds', { priority_band: 'normal' })).toBeUndefined();
  expect(await v('quartermaster_reservations', { state: 'cancelled' })).toBe(0);
  expect(await v('quartermaster_reservations', { state: 'pending' })).toBe(7);
  expect(await v('quartermaster_node_capacity', { node: 'n1', resource: 'cpu' })).toBe(8);
  expect(await v('quartermaster_node_granted', { node: 'n1', resource: 'cpu' })).toBe(3);
  expect(await v('quartermaster_node_granted', { node: 'n1', resource: 'memoryMb' })).toBe(0);
  expect(await v('quartermaster_node_granted', { node: 'n1', resource: 'db-connections' })).toBe(2);
  expect(await v('quartermaster_node_usage', { node: 'n1', resource: 'cpu' })).toBe(2.5);
  expect(await v('quartermaster_node_usage', { node: 'n1', resource: 'diskIoMBps' })).toBeUndefined();
  expect(
    await v('quartermaster_node_forecast_upper', { node: 'n1', resource: 'cpu', horizon_seconds: '10' }),
  ).toBe(4);
  expect(await v('quartermaster_node_heartbeat_age_seconds', { node: 'n1' })).toBe(1.5);
  expect(await v('quartermaster_pool_capacity', { pool: 'db-connections' })).toBe(20);
  expect(await v('quartermaster_boosts_active')).toBe(2);
  expect(await v('quartermaster_boosts_active_amount')).toBe(1.5);
  expect(await v('quartermaster_shrink_offers_open')).toBe(1);
  expect(await v('quartermaster_ledger_up')).toBe(1);
  expect(read).toHaveBeenCalledTimes(1); // one read served every gauge
});

test('a failed read: ledger_up 0, a failure counted, labelled gauges empty rather than stale', async () => {
  const registry = new Registry();
  let fail = false;
  let clock = 0;
  registerLedgerGauges(registry, {
    read: () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(ledger)),
    now: () => clock,
  });
  expect(await valueOf(registry, 'quartermaster_boosts_active')).toBe(2);
  fail = true;
  clock += 500; // within the cache time: the earlier read still serves
  expect(await valueOf(registry, 'quartermaster_ledger_up')).toBe(1);
  clock += 1000;
  const text = await registry.metrics();
  expect(text).toContain('quartermaster_ledger_up 0');
  expect(text).toContain('quartermaster_ledger_read_failures_total 1');
  expect(text).toMatch(/^quartermaster_boosts_active 0$/m); // unlabelled: prom-client keeps a 0
  expect(text).not.toMatch(/^quartermaster_reservations\{/m);
  expect(text).not.toMatch(/^quartermaster_node_capacity\{/m);
});

test('published shapes: forecasts and usage of other shapes are skipped, not guessed', () => {
  expect(forecastPoints(null)).toEqual([]);
  expect(
    forecastPoints({ x: { cpu: { upper: 1 } }, '5': { cpu: { upper: 'a' }, memoryMb: { upper: 7 } } }),
  ).toEqual([{ resource: 'memoryMb', horizonSeconds: 5, upper: 7 }]);
  expect(usagePoints({ cpu: 1, memoryMb: Number.NaN, gpus: [] })).toEqual([{ resource: 'cpu', value: 1 }]);
});
