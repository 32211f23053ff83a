/** The page itself: self-contained (ECharts inlined, no external URL), data embedded safely. */
import { renderExecutionReport } from '../../../src/report/render';
import { rec } from './records';

function pageData(html: string): { charts: Array<{ id: string; option: Record<string, unknown> }> } {
  const m = /<script type="application\/json" id="qm-report-data">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error('no data block');
  return JSON.parse(m[1] as string) as { charts: Array<{ id: string; option: Record<string, unknown> }> };
}

describe('renderExecutionReport', () => {
  const records = [
    rec({ workflowId: '</script><b>x', priority: 9, started: 0, ended: 10, expectedSeconds: 8 }),
    rec({ workflowId: 'w2', priority: 2, requested: 1, started: 4, ended: 9, nodeId: 'n2', reduced: true }),
  ];
  const html = renderExecutionReport({
    title: 'T & <co>',
    sections: [{ title: 'Ledger', records, nodes: [{ id: 'n1', capacity: { cpu: 4 } }] }],
  });

  it('inlines ECharts and loads nothing from the network', () => {
    expect(html).toContain('Apache');
    expect(html.length).toBeGreaterThan(500_000);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
  });

  it('escapes text and keeps the data block intact', () => {
    expect(html).toContain('<title>T &amp; &lt;co&gt;</title>');
    const ids = pageData(html).charts.map((c) => c.id);
    expect(ids).toEqual([
      's0-gantt-0',
      's0-gantt-1',
      's0-queue',
      's0-waits',
      's0-capacity-0',
      's0-capacity-1',
      's0-accuracy',
    ]);
    for (const id of ids) expect(html).toContain(`id="${id}"`);
  });

  it('says so when there is nothing to draw', () => {
    const empty = renderExecutionReport({ title: 'none', sections: [{ title: 'Ledger', records: [] }] });
    expect(empty).toContain('No executions in this selection.');
    expect(pageData(empty).charts).toEqual([]);
  });
});
