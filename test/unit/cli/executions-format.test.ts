import { formatEstimates, formatExpectedRun, formatHistory } from '../../../src/cli/commands/executions';
import type { ExecutionRecord } from '../../../src/execution/record';

test.each<[string, Parameters<typeof formatExpectedRun>[0], string]>([
  [
    'a learned run time',
    { decision: 'wait', expectedSeconds: 130, expectedSource: 'learned', expectedSamples: 14 },
    '~2m10s (learned, n=14)',
  ],
  ['a declared one', { decision: 'wait', expectedSeconds: 130, expectedSource: 'declared' }, '2m10s'],
  ['none', { decision: 'wait' }, 'unknown'],
  ['a grant row', { decision: 'grant', expectedSeconds: 5 }, ''],
])('formatExpectedRun: %s', (_what, row, text) => {
  expect(formatExpectedRun(row)).toBe(text);
});

const T = new Date('2026-11-30T12:00:00Z');
const at = (s: number): Date => new Date(T.getTime() + s * 1000);

function record(extra: Partial<ExecutionRecord>): ExecutionRecord {
  return {
    workflowId: 'etl-1',
    runId: 'r',
    definitionName: 'etl',
    definitionVersion: 3,
    stageId: 'load',
    shardIndex: null,
    handler: 'qm.echo',
    attempt: 1,
    priority: 5,
    importance: 0,
    desired: { cpu: 4 },
    minimum: { cpu: 2 },
    granted: { cpu: 4 },
    reduced: false,
    shrinks: 0,
    nodeId: 'n1',
    expectedSeconds: null,
    requestedAt: at(0),
    grantedAt: at(12),
    startedAt: at(13),
    endedAt: at(143),
    estimatedStartAt: null,
    outcome: 'completed',
    ...extra,
  };
}

test('formatHistory: one row per attempt with wait, run, grant marks and outcome', () => {
  const out = formatHistory([
    record({}),
    record({
      stageId: 'split',
      shardIndex: 2,
      granted: { cpu: 1 },
      reduced: true,
      shrinks: 2,
      attempt: 2,
      outcome: 'failed',
    }),
    record({
      definitionName: '',
      granted: null,
      nodeId: null,
      grantedAt: null,
      startedAt: null,
      endedAt: at(5),
      outcome: 'cancelled',
    }),
  ]).split('\n');
  expect(out[0]).toMatch(
    /^ENDED\s+PIPELINE\s+WORKFLOW\s+STAGE\s+TRY\s+PRIO\s+NODE\s+GRANTED\s+WAIT\s+RUN\s+OUTCOME$/,
  );
  expect(out[1]).toMatch(
    /^2026-11-30T12:02:23Z\s+etl\s+etl-1\s+load\s+1\s+5\s+n1\s+cpu=4\s+12s\s+2m10s\s+completed$/,
  );
  expect(out[2]).toMatch(/split#2\s+2\s+5\s+n1\s+cpu=1 \(reduced, shrunk 2x\)\s+12s\s+2m10s\s+failed$/);
  expect(out[3]).toMatch(/^2026-11-30T12:00:05Z\s+-\s+etl-1\s+load\s+1\s+5\s+-\s+-\s+5s\s+-\s+cancelled$/);
});

test('formatEstimates: accuracy rows per key and kind, then learned run times; empty states say why', () => {
  const out = formatEstimates({
    accuracy: [
      {
        definitionName: 'etl',
        stageId: 'load',
        handler: 'qm.echo',
        kind: 'start',
        source: null,
        n: 14,
        maeSeconds: 12.4,
        biasSeconds: 3,
        p90AbsSeconds: 40,
      },
      {
        definitionName: 'etl',
        stageId: 'load',
        handler: 'qm.echo',
        kind: 'run-time',
        source: 'learned',
        n: 11,
        maeSeconds: 8,
        biasSeconds: -2,
        p90AbsSeconds: 20,
      },
    ],
    learned: [
      { definitionName: 'etl', stageId: 'load', handler: 'qm.echo', seconds: 130, samples: 14, updatedAt: T },
    ],
  });
  expect(out).toMatch(/PIPELINE\s+STAGE\s+HANDLER\s+ESTIMATE\s+N\s+MAE\s+BIAS\s+P90 \|ERR\|/);
  expect(out).toMatch(/etl\s+load\s+qm\.echo\s+start\s+14\s+12s\s+\+3s\s+40s/);
  expect(out).toMatch(/etl\s+load\s+qm\.echo\s+run time \(learned\)\s+11\s+8s\s+-2s\s+20s/);
  expect(out).toMatch(/etl\s+load\s+qm\.echo\s+2m10s\s+14\s+2026-11-30T12:00:00Z/);
  const empty = formatEstimates({ accuracy: [], learned: [] });
  expect(empty).toContain('no estimate can be checked yet');
  expect(empty).toContain('no learned run times yet');
});
