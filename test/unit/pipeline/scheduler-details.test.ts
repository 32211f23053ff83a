import { schedulerDetails } from '../../../src/pipeline/scheduler-details';

const row = (rank: number, over: Record<string, unknown> = {}) => ({
  rank,
  workflowId: `etl-${rank}`,
  stageId: 'train',
  shardIndex: null,
  score: 0.5 + rank / 100,
  decision: 'wait',
  reason: 'cpu: needs 8, 2 free on node-1',
  estimatedStartAt: '2026-01-01T00:05:00.000Z',
  ...over,
});

test('shows the last cycle and the top of the queue', () => {
  const md = schedulerDetails({
    lastCycleAt: '2026-01-01T00:00:00.000Z',
    cycles: 3,
    entries: [
      row(1, { decision: 'grant', estimatedStartAt: undefined }),
      row(2, { shardIndex: 4, estimatedStartAt: null }),
    ],
  });
  expect(md).toContain('last cycle 2026-01-01T00:00:00.000Z · 3 cycles this run · 2 in queue');
  expect(md).toContain('RANK  PIPELINE  STAGE    SCORE  DECISION  EST. START');
  expect(md).toMatch(/^1 +etl-1 +train +0\.510 +grant +cpu: needs 8/m);
  expect(md).toMatch(/^2 +etl-2 +train#4 +0\.520 +wait +unknown +cpu/m);
});

test('bounded: 15 rows, the rest counted', () => {
  const md = schedulerDetails({
    lastCycleAt: '2026-01-01T00:00:00.000Z',
    cycles: 1,
    entries: Array.from({ length: 500 }, (_, i) => row(i + 1)),
  });
  expect(md).toContain('… and 485 more');
  expect(md.split('\n').filter((l) => /^\d+ /.test(l))).toHaveLength(15);
});

test('before the first cycle and with an empty queue', () => {
  expect(schedulerDetails({ lastCycleAt: null, cycles: 0, entries: [] })).toContain('no cycle yet');
});
