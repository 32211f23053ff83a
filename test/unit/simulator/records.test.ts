/** A simulated run writes the same execution records as the ledger (`toExecutionRecords`). */
import { computeMetrics, renderHtmlReport, simulate, toExecutionRecords } from '../../../src/simulator';
import { startError } from '../../../src/report/accuracy';
import { fixture } from './fixtures';

describe('toExecutionRecords', () => {
  it('writes one record per run with the simulated times (order.json, hand-checked)', () => {
    // order.json: one 4-core node; a (p2) at 0, c (p5) at 1, b (p9) at 2, each 4 cores for 10 s.
    const { records, nodes, samples } = toExecutionRecords(
      simulate(fixture('order'), { policy: 'quartermaster' }),
    );
    expect(nodes).toEqual([{ id: 'n1', capacity: { cpu: 4 } }]);
    expect(samples).toEqual([]);
    const t = (d: Date | null): number | null => (d === null ? null : d.getTime() / 1000);
    expect(
      records.map((r) => [
        r.definitionName,
        r.priority,
        t(r.requestedAt),
        t(r.grantedAt),
        t(r.startedAt),
        t(r.endedAt),
      ]),
    ).toEqual([
      ['a', 2, 0, 0, 0, 10],
      ['b', 9, 2, 10, 10, 20],
      ['c', 5, 1, 20, 20, 30],
    ]);
    expect(records[0]).toMatchObject({
      workflowId: 's0-a',
      runId: null,
      stageId: 's',
      shardIndex: null,
      attempt: 1,
      handler: 'qm.sleep',
      nodeId: 'n1',
      granted: { cpu: 4 },
      reduced: false,
      shrinks: 0,
      outcome: 'completed',
    });
  });

  it('separates grant and start by the start latency', () => {
    const { records } = toExecutionRecords(simulate(fixture('order'), { startLatencySeconds: 2 }));
    for (const r of records)
      expect((r.startedAt as Date).getTime() - (r.grantedAt as Date).getTime()).toBe(2000);
  });

  it('agrees with computeMetrics on a mixed run (shards, reduced grants, start estimates)', () => {
    const trace = simulate(fixture('overload-1.5x'), { policy: 'quartermaster' });
    const m = computeMetrics(trace);
    const { records } = toExecutionRecords(trace);
    expect(records).toHaveLength(trace.executions.length);
    expect(records.filter((r) => r.shardIndex !== null)).toHaveLength(m.shards);
    expect(records.filter((r) => r.reduced).length).toBeGreaterThanOrEqual(m.reducedGrants);
    expect(records.filter((r) => r.shrinks > 0).length).toBeGreaterThan(0);
    // Each stage's estimate sits on its first run only, so the errors are computeMetrics' own.
    const errors = records.map(startError).filter((e): e is number => e !== null);
    expect(errors).toHaveLength(m.waitEstimate.count);
    const mean = errors.reduce((a, b) => a + Math.abs(b), 0) / errors.length;
    expect(mean).toBeCloseTo(m.waitEstimate.meanAbsErrorSeconds, 3);
  });

  it('samples usage and forecasts of nodes with background load', () => {
    const { samples } = toExecutionRecords(simulate(fixture('background-1.5x')));
    expect(samples.some((s) => s.used !== null)).toBe(true);
    expect(samples.some((s) => s.forecast !== null)).toBe(true);
    expect(samples.every((s) => (s.used ?? 0) >= 0)).toBe(true);
  });
});

describe('renderHtmlReport', () => {
  it('draws the policies side by side on the shared renderer', () => {
    const w = fixture('order');
    const html = renderHtmlReport(
      [simulate(w, { policy: 'quartermaster' }), simulate(w, { policy: 'fifo' })],
      'order',
    );
    expect(html).toContain('<h2>Policies side by side</h2>');
    expect(html).toContain('<h2>quartermaster</h2>');
    expect(html).toContain('<h2>fifo</h2>');
    expect(html).toContain('id="s1-gantt-0"');
    expect(html).not.toMatch(/<svg/); // no hand-drawn SVG: ECharts draws in the browser
  });
});
