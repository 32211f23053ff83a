import { Counter, Gauge, type Registry } from 'prom-client';
import type { LedgerMetrics, NodeMetricsRow } from '../ledger/metrics-queries';
import { PRIORITY_BANDS, priorityBand } from './priority-band';

/** Monitor metrics that measure a capacity the ledger grants (same names as the ledger's resources). */
const MONITORED = ['cpu', 'memoryMb', 'diskIoMBps', 'netMbps'] as const;

/** Options of {@link registerLedgerGauges}. */
export interface LedgerGaugesOptions {
  /** Reads the ledger (e.g. `readLedgerMetrics` over the worker's database). */
  read: () => Promise<LedgerMetrics>;
  /**
   * One read serves every gauge of a scrape, and scrapes closer together than this share it too, ms.
   * @default 1000
   */
  cacheMs?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  now?: () => number;
}

/** One forecast per node, resource and horizon: `{ node, resource, horizon, upper }`. */
export interface ForecastPoint {
  readonly resource: string;
  readonly horizonSeconds: number;
  readonly upper: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The forecast upper bands a node published (the monitor's `{ "<horizon>": { cpu: { value, lower, upper },
 * … } }`), for the monitored resources; anything of another shape is skipped.
 */
export function forecastPoints(forecast: unknown): ForecastPoint[] {
  if (!isRecord(forecast)) return [];
  const out: ForecastPoint[] = [];
  for (const [horizon, perMetric] of Object.entries(forecast)) {
    const h = Number(horizon);
    if (!Number.isFinite(h) || !isRecord(perMetric)) continue;
    for (const resource of MONITORED) {
      const f = perMetric[resource];
      if (isRecord(f) && typeof f.upper === 'number' && Number.isFinite(f.upper))
        out.push({ resource, horizonSeconds: h, upper: f.upper });
    }
  }
  return out;
}

/** The measured usage a node published, for the monitored resources (a `null` reading is left out). */
export function usagePoints(usage: unknown): Array<{ resource: string; value: number }> {
  if (!isRecord(usage)) return [];
  return MONITORED.flatMap((resource) => {
    const v = usage[resource];
    return typeof v === 'number' && Number.isFinite(v) ? [{ resource, value: v }] : [];
  });
}

/**
 * Registers the gauges read from the ledger at scrape time: pending requests and their oldest age by
 * priority band, reservations by state, per node and resource the capacity, granted, measured usage and
 * forecast upper band (per horizon), the node's heartbeat age, custom pools' capacity and granted, active
 * boosts, open shrink offers, and `quartermaster_ledger_up` (0 when the read failed; the failure is counted
 * in `quartermaster_ledger_read_failures_total`, the labelled gauges are left empty rather than stale and the
 * unlabelled ones read 0 — check `quartermaster_ledger_up`).
 * Values are in the ledger's own units (cpu: cores, memoryMb: MiB, custom pools: their count).
 */
export function registerLedgerGauges(registry: Registry, options: LedgerGaugesOptions): void {
  const cacheMs = options.cacheMs ?? 1000;
  const now = options.now ?? Date.now;
  let cached: { at: number; value: Promise<LedgerMetrics | undefined> } | undefined;
  // Reads (and so counts a failure) before it is itself collected: it is registered first.
  const failures: Counter = new Counter({
    name: 'quartermaster_ledger_read_failures_total',
    help: "Scrapes whose read of the ledger's gauges failed (database unreachable).",
    registers: [registry],
    async collect() {
      await read();
    },
  });
  const read = (): Promise<LedgerMetrics | undefined> => {
    const t = now();
    if (cached === undefined || t - cached.at >= cacheMs) {
      cached = {
        at: t,
        value: options.read().catch(() => {
          failures.inc();
          return undefined;
        }),
      };
    }
    return cached.value;
  };
  const registers = [registry];
  /** A gauge whose every scrape resets it and sets it from the shared read. */
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, m: LedgerMetrics) => void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const m = await read();
        this.reset();
        if (m !== undefined) fill(this, m);
      },
    });
  }
  new Gauge({
    name: 'quartermaster_ledger_up',
    help: 'Whether the last read of the ledger for these gauges succeeded (1) or failed (0).',
    registers,
    async collect() {
      this.set((await read()) === undefined ? 0 : 1);
    },
  });
  gauge(
    'quartermaster_pending_requests',
    'Requests waiting for resources, by priority band (low 1-3, normal 4-7, high 8-10).',
    ['priority_band'],
    (g, m) => {
      for (const band of PRIORITY_BANDS) g.set({ priority_band: band }, 0);
      for (const p of m.pendingByPriority) g.inc({ priority_band: priorityBand(p.priority) }, p.count);
    },
  );
  gauge(
    'quartermaster_pending_oldest_age_seconds',
    'Age of the oldest waiting request, by priority band (absent when none waits).',
    ['priority_band'],
    (g, m) => {
      const oldest = new Map<string, number>();
      for (const p of m.pendingByPriority) {
        const band = priorityBand(p.priority);
        oldest.set(band, Math.max(oldest.get(band) ?? 0, p.oldestSeconds));
      }
      for (const [band, age] of oldest) g.set({ priority_band: band }, age);
    },
  );
  gauge(
    'quartermaster_reservations',
    'Reservation rows in the ledger by state (pending, granted, running, released, expired, cancelled).',
    ['state'],
    (g, m) => {
      for (const state of ['pending', 'granted', 'running', 'released', 'expired', 'cancelled'])
        g.set({ state }, m.reservationsByState[state] ?? 0);
    },
  );
  const perNode = (
    name: string,
    help: string,
    values: (n: NodeMetricsRow) => Iterable<[string, number]>,
  ): void =>
    gauge(name, help, ['node', 'resource'], (g, m) => {
      for (const n of m.nodes) for (const [resource, v] of values(n)) g.set({ node: n.id, resource }, v);
    });
  perNode('quartermaster_node_capacity', "A node's capacity per resource, in the resource's unit.", (n) =>
    Object.entries(n.capacity).filter(([, v]) => typeof v === 'number'),
  );
  perNode(
    'quartermaster_node_granted',
    'Resources held (granted or running) on a node per resource; every capacity resource is present (0 when free), custom pools only when held.',
    (n) => {
      const out = new Map<string, number>(Object.keys(n.capacity).map((r) => [r, 0]));
      for (const [r, v] of Object.entries(n.granted)) out.set(r, v);
      return out;
    },
  );
  perNode(
    'quartermaster_node_usage',
    "A node's measured usage as its monitor last published it (cpu cores, memoryMb MiB, diskIoMBps, netMbps).",
    (n) => usagePoints(n.usage).map((p): [string, number] => [p.resource, p.value]),
  );
  gauge(
    'quartermaster_node_forecast_upper',
    "The upper band of a node's usage forecast per resource and horizon (the scheduler plans on it).",
    ['node', 'resource', 'horizon_seconds'],
    (g, m) => {
      for (const n of m.nodes)
        for (const f of forecastPoints(n.forecast))
          g.set({ node: n.id, resource: f.resource, horizon_seconds: String(f.horizonSeconds) }, f.upper);
    },
  );
  gauge(
    'quartermaster_node_heartbeat_age_seconds',
    "Seconds since a node's last heartbeat (stale after the ledger's stale time, 30 s by default).",
    ['node'],
    (g, m) => {
      for (const n of m.nodes) g.set({ node: n.id }, n.heartbeatAgeSeconds);
    },
  );
  gauge('quartermaster_pool_capacity', "A custom pool's declared capacity.", ['pool'], (g, m) => {
    for (const p of m.pools) g.set({ pool: p.name }, p.capacity);
  });
  gauge(
    'quartermaster_pool_granted',
    "A custom pool's held (granted or running) amount.",
    ['pool'],
    (g, m) => {
      for (const p of m.pools) g.set({ pool: p.name }, p.granted);
    },
  );
  gauge('quartermaster_boosts_active', 'Importance boosts not yet expired.', [], (g, m) =>
    g.set(m.boosts.active),
  );
  gauge('quartermaster_boosts_active_amount', 'Sum of the amounts of the active boosts.', [], (g, m) =>
    g.set(m.boosts.amount),
  );
  gauge(
    'quartermaster_shrink_offers_open',
    'Held reservations with an unanswered shrink offer (graceful degradation).',
    [],
    (g, m) => g.set(m.shrinkOffersOpen),
  );
}
