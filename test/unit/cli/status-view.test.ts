import { statusRows, statusView, STATUS_HEADERS } from '../../../src/cli/status-view';
import type { PipelineStatus } from '../../../src/pipeline/types';

const status: PipelineStatus = {
  name: 'etl',
  state: 'running',
  importance: 2,
  stages: {
    done: {
      status: 'completed',
      attempts: 1,
      node: 'n1',
      allocation: { cpu: 2 },
      startedAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:00:05.000Z',
    },
    waits: { status: 'waiting', attempts: 0, waitReason: 'cpu: needs 8, 2 free on n1' },
    runs: { status: 'running', attempts: 2, node: 'n1' },
    broke: { status: 'failed', attempts: 3, error: 'Error: boom' },
  },
};

test('the table shows the wait reason, estimated start and error per stage', () => {
  const view = statusView(status, { status: 'RUNNING' });
  expect(view.state).toBe('running');
  const rows = statusRows(view, new Map([['waits', '2026-01-01T00:10:00.000Z']]));
  const col = (name: string) => STATUS_HEADERS.indexOf(name);
  const row = (id: string) => rows.find((r) => r[0] === id) ?? [];
  expect(row('waits')[col('EST. START')]).toBe('2026-01-01T00:10:00.000Z');
  expect(row('waits')[col('WAIT REASON / ERROR')]).toBe('cpu: needs 8, 2 free on n1');
  expect(row('broke')[col('WAIT REASON / ERROR')]).toBe('Error: boom');
  expect(row('runs')[col('ATTEMPTS')]).toBe('2');
  expect(statusRows(view)[1]?.[col('EST. START')]).toBe('');
  expect(statusRows(view, new Map([['waits', null]]))[1]?.[col('EST. START')]).toBe('unknown');
});

test.each([
  ['TERMINATED', 'terminated'],
  ['TIMED_OUT', 'timed out'],
])('a run Temporal %s says so, and so do its unfinished stages', (temporal, shown) => {
  const view = statusView(status, { status: temporal, closeTime: '2026-01-01T00:01:00.000Z' });
  expect(view.state).toBe(shown);
  expect(view.note).toContain(`Temporal says ${temporal} at 2026-01-01T00:01:00.000Z`);
  expect(view.stages.waits?.displayStatus).toBe(shown);
  expect(view.stages.runs?.displayStatus).toBe(shown);
  expect(view.stages.done?.displayStatus).toBe('completed');
  expect(view.stages.broke?.displayStatus).toBe('failed');
});

test("without a status answer, Temporal's word is used", () => {
  expect(statusView(undefined, { status: 'TERMINATED' }).state).toBe('terminated');
  expect(statusView(undefined, { status: 'COMPLETED' })).toMatchObject({ state: 'completed' });
});
