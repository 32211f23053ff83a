import { readFileSync } from 'node:fs';
import path from 'node:path';
import { registerLedgerGauges } from '../../../src/metrics/ledger-gauges';
import { QuartermasterMetrics } from '../../../src/metrics/quartermaster-metrics';

// The dashboard is checked against a real Prometheus by test/integration/metrics; these checks are the
// cheap ones: it is well formed, and every quartermaster_* name it queries is one the code exports.
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
}
const dashboard = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', '..', 'deploy', 'grafana', 'quartermaster.json'), 'utf8'),
) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string }> };
};

test('panels: unique ids, inside the 24-column grid, not overlapping; every query on the datasource variable', () => {
  const ids = dashboard.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(dashboard.templating.list).toContainEqual(
    expect.objectContaining({ name: 'datasource', type: 'datasource' }),
  );
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        expect([p.title, cells.has(`${x},${y}`)]).toEqual([p.title, false]);
        cells.add(`${x},${y}`);
      }
    if (p.type === 'row') continue;
    expect(p.datasource?.uid).toBe('${datasource}');
    expect(p.targets?.length).toBeGreaterThan(0);
    for (const t of p.targets ?? []) {
      expect(t.datasource?.uid).toBe('${datasource}');
      expect(t.expr.trim()).not.toBe('');
    }
  }
});

test('every quartermaster_* series the dashboard queries is exported by the code', async () => {
  const metrics = new QuartermasterMetrics({ processMetrics: false });
  registerLedgerGauges(metrics.registry, { read: () => Promise.reject(new Error('no ledger here')) });
  const exported = new Set(
    (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
      String(m.type) === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
    ),
  );
  exported.add('quartermaster_temporal_metrics_up'); // written by the server itself
  const queried = new Set(
    dashboard.panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) => t.expr.match(/quartermaster_[a-z_]+/g) ?? []),
    ),
  );
  expect(queried.size).toBeGreaterThan(20);
  expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
});
