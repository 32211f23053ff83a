import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsServerError } from './errors';
import type { QuartermasterMetrics } from './quartermaster-metrics';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** What to serve. */
  metrics: QuartermasterMetrics;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Address to listen on. @default '0.0.0.0' */
  host?: string;
  /**
   * The Temporal SDK Runtime's Prometheus endpoint; its text is appended to each scrape (a failed fetch
   * leaves it out and sets `quartermaster_temporal_metrics_up` to 0). @default none
   */
  temporalMetricsUrl?: string;
  /** How long a scrape waits for the Temporal endpoint, ms. @default 2000 */
  temporalTimeoutMs?: number;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics` (with the port actually bound). */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening. */
  close(): Promise<void>;
}

/** Prometheus text exposition format 0.0.4 (what prom-client and the Temporal Runtime both emit). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function temporalText(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return await res.text();
  } catch {
    return undefined;
  }
}

/**
 * Serves `GET /metrics`: Quartermaster's metrics, then (when `temporalMetricsUrl` is set) the Temporal SDK
 * Runtime's own metrics (`temporal_*`), so one scrape target carries both. Other paths answer 404.
 * @throws MetricsServerError when it cannot listen (port in use, address not local).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '0.0.0.0';
  const timeoutMs = options.temporalTimeoutMs ?? 2000;
  const { metrics, temporalMetricsUrl } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(path === '/metrics' ? 'GET only\n' : 'see /metrics\n');
      return;
    }
    void (async () => {
      try {
        const [own, temporal] = await Promise.all([
          metrics.text(),
          temporalMetricsUrl === undefined ? undefined : temporalText(temporalMetricsUrl, timeoutMs),
        ]);
        let body = own;
        if (temporalMetricsUrl !== undefined) {
          body +=
            '# HELP quartermaster_temporal_metrics_up Whether the Temporal SDK Runtime metrics were read for this scrape.\n' +
            '# TYPE quartermaster_temporal_metrics_up gauge\n' +
            `quartermaster_temporal_metrics_up ${temporal === undefined ? 0 : 1}\n`;
          if (temporal !== undefined) body += temporal.endsWith('\n') ? temporal : `${temporal}\n`;
        }
        res.writeHead(200, { 'content-type': CONTENT_TYPE });
        res.end(body);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${String(err)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new MetricsServerError(`${host}:${options.port}`, err.message)));
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
