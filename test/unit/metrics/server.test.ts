import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QuartermasterMetrics } from '../../../src/metrics/quartermaster-metrics';
import { startMetricsServer, type MetricsServer } from '../../../src/metrics/server';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function fakeTemporal(body: string): Promise<string> {
  const server = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

async function serve(temporalMetricsUrl?: string): Promise<MetricsServer> {
  const s = await startMetricsServer({
    metrics: new QuartermasterMetrics({ processMetrics: false }),
    port: 0,
    host: '127.0.0.1',
    ...(temporalMetricsUrl ? { temporalMetricsUrl } : {}),
    temporalTimeoutMs: 500,
  });
  closers.push(() => s.close());
  return s;
}

test("GET /metrics: Quartermaster's text then the Temporal Runtime's, in the 0.0.4 text format", async () => {
  const s = await serve(await fakeTemporal('# TYPE temporal_x counter\ntemporal_x_total 3'));
  const res = await fetch(s.url);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  expect(text.indexOf('quartermaster_cycles_total')).toBeLessThan(text.indexOf('temporal_x_total 3'));
  expect(text).toContain('quartermaster_temporal_metrics_up 1');
  expect(text.endsWith('temporal_x_total 3\n')).toBe(true);
});

test('an unreachable Temporal endpoint leaves its part out and says so', async () => {
  const s = await serve('http://127.0.0.1:1/metrics');
  const text = await (await fetch(s.url)).text();
  expect(text).toContain('quartermaster_temporal_metrics_up 0');
  expect(text).toContain('quartermaster_cycles_total');
});

test('other paths are 404, other methods 405; without a Temporal URL there is no up gauge', async () => {
  const s = await serve();
  expect((await fetch(s.url.replace('/metrics', '/'))).status).toBe(404);
  expect((await fetch(s.url, { method: 'POST' })).status).toBe(405);
  expect(await (await fetch(`${s.url}?x=1`)).text()).not.toContain('temporal_metrics_up');
});

test('a taken port is a MetricsServerError naming the address', async () => {
  const s = await serve();
  await expect(
    startMetricsServer({
      metrics: new QuartermasterMetrics({ processMetrics: false }),
      port: s.port,
      host: '127.0.0.1',
    }),
  ).rejects.toMatchObject({ name: 'MetricsServerError', address: `127.0.0.1:${s.port}` });
});
