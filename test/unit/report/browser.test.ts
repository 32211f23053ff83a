/**
 * The report in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core) opens a
 * report of a realistic simulated run (`bench/workloads/background-1.5x.json`, written with
 * `--records-out`'s format and rendered by `qm report --records`) with every network request refused, and
 * checks that each chart drew its shapes: a bar per execution in each Gantt chart, the band lines, the
 * granted/used series, the accuracy bars. Saves the top of the page as `docs/report.png` (the README's
 * picture). Needs no services, so it runs with the unit tests; skipped when no Chromium is installed,
 * unless QM_REQUIRE_WEBUI=1 (CI installs it in `.ci/run`).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { reportCommand } from '../../../src/cli/commands/report';
import { serializeRecordsFile } from '../../../src/report/records-file';
import { simulate, toExecutionRecords } from '../../../src/simulator';
import { fixture } from '../simulator/fixtures';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const required = process.env.QM_REQUIRE_WEBUI === '1';
const run = CHROMIUM !== undefined || required ? describe : describe.skip;
const docs = path.join(__dirname, '..', '..', '..', 'docs');

interface ChartCheck {
  id: string;
  width: number;
  height: number;
  /** fill or stroke colour → paths using it */
  colours: Record<string, number>;
}

/** The DOM as far as the check uses it (the project compiles without DOM types). */
interface DomElement {
  readonly id: string;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; height: number };
}

interface PageData {
  charts: Array<{ id: string; gantt?: boolean; option: { series: Array<{ data: unknown[] }> } }>;
}

run('the execution report in headless Chromium', () => {
  let browser: Browser;
  let file: string;

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error('QM_REQUIRE_WEBUI=1 but no chromium is installed');
    const dir = mkdtempSync(path.join(tmpdir(), 'qm-report-'));
    const records = path.join(dir, 'records.json');
    const trace = simulate(fixture('background-1.5x'), { policy: 'quartermaster' });
    writeFileSync(
      records,
      serializeRecordsFile({
        title: 'Simulation of bench/workloads/background-1.5x.json (policy quartermaster)',
        simulated: true,
        ...toExecutionRecords(trace),
      }),
    );
    file = path.join(dir, 'report.html');
    await reportCommand({ records, out: file });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart offline, with a shape per execution', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${file}`);
    await page.waitForSelector('#s0-accuracy svg');
    const checks: ChartCheck[] = await page.evaluate(() =>
      [...(globalThis as unknown as { document: DomElement }).document.querySelectorAll('.chart')].map(
        (div) => {
          const svg = div.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          const colours: Record<string, number> = {};
          for (const p of svg?.querySelectorAll('path') ?? []) {
            for (const attr of ['fill', 'stroke']) {
              const c = p.getAttribute(attr);
              if (c !== null) colours[`${attr}:${c}`] = (colours[`${attr}:${c}`] ?? 0) + 1;
            }
          }
          return { id: div.id, width: box?.width ?? 0, height: box?.height ?? 0, colours };
        },
      ),
    );
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    const html = readFileSync(file, 'utf8');
    const data = JSON.parse(
      /<script type="application\/json" id="qm-report-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '{}',
    ) as PageData;
    expect(checks.map((c) => c.id)).toEqual(data.charts.map((c) => c.id));
    const band = (c: ChartCheck, attr: 'fill' | 'stroke'): number =>
      ['#d62728', '#ff9f1c', '#1f77b4'].reduce((n, colour) => n + (c.colours[`${attr}:${colour}`] ?? 0), 0);
    for (const c of checks) {
      expect(c.width).toBeGreaterThan(600);
      expect(c.height).toBeGreaterThan(100);
    }
    const gantts = data.charts.filter((c) => c.gantt === true);
    expect(gantts.length).toBe(4);
    for (const spec of gantts) {
      const bars = spec.option.series.reduce((n, s) => n + s.data.length, 0);
      expect(bars).toBeGreaterThan(10);
      // one filled shape per bar, plus the three legend icons
      expect(band(checks.find((c) => c.id === spec.id) as ChartCheck, 'fill')).toBe(bars + 3);
    }
    const byId = (id: string): ChartCheck => checks.find((c) => c.id === id) as ChartCheck;
    expect(band(byId('s0-queue'), 'stroke')).toBeGreaterThanOrEqual(3);
    expect(band(byId('s0-waits'), 'fill')).toBeGreaterThan(100);
    const capacity = checks.filter((c) => c.id.startsWith('s0-capacity-'));
    expect(capacity.every((c) => (c.colours['stroke:#2ca02c'] ?? 0) > 0)).toBe(true);
    expect(capacity.some((c) => (c.colours['stroke:#9467bd'] ?? 0) > 0)).toBe(true); // used, from samples
    expect(
      (byId('s0-accuracy').colours['fill:#1f77b4'] ?? 0) + (byId('s0-accuracy').colours['fill:#ff7f0e'] ?? 0),
    ).toBeGreaterThan(2);
    const text = await page.locator('body').innerText();
    expect(text).toContain('used / forecast: no samples'); // nodes without background load have no simulated monitor
    await page.screenshot({
      path: path.join(docs, 'report.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 2950 },
    });
    await page.close();
  });
});
