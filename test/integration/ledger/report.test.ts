/**
 * `qm report` on a real ledger: the execution records written as reservations end (released, cancelled),
 * filtered by pipeline and window, drawn into the page; running reservations are not executions yet.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reportCommand } from '../../../src/cli/commands/report';
import { loadExecutions } from '../../../src/execution/source';
import type { Database } from '../../../src/ledger/db';
import { commitDecisions } from '../../../src/ledger/commit';
import { registerNode } from '../../../src/ledger/nodes';
import {
  cancelWorkflowReservations,
  markRunning,
  releaseReservation,
  requestReservation,
} from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase } from '../../support/env';

let db: Database;
const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-report-'));

beforeAll(async () => {
  db = await openTestDatabase('qm_report');
  const now = new Date();
  const ago = (s: number): Date => new Date(now.getTime() - s * 1000);
  await registerNode(db, { id: 'n1', capacity: { cpu: 8 } }, ago(405));
  const stages = [
    { key: 'a', workflowId: 'etl-1a2b3c4d', definitionName: 'etl', priority: 9, desired: { cpu: 4 } },
    {
      key: 'b',
      workflowId: 'etl-00ff00ff',
      definitionName: 'etl',
      priority: 2,
      desired: { cpu: 4 },
      minimum: { cpu: 1 },
    },
    { key: 'c', workflowId: 'train', definitionName: 'train', priority: 5, desired: { cpu: 2 } },
    { key: 'd', workflowId: 'etl-12345678', definitionName: 'etl', priority: 5, desired: { cpu: 1 } },
  ];
  for (const s of stages) await requestReservation(db, { ...s, stageId: 's', handler: 'qm.echo' }, ago(410));
  await commitDecisions(
    db,
    [
      { key: 'a', nodeId: 'n1', granted: { cpu: 4 }, leaseMs: 3_600_000 },
      { key: 'b', nodeId: 'n1', granted: { cpu: 2 }, leaseMs: 3_600_000 },
      { key: 'd', nodeId: 'n1', granted: { cpu: 1 }, leaseMs: 3_600_000 },
    ],
    ago(400),
  );
  await markRunning(db, 'a', 3_600_000, ago(399));
  await markRunning(db, 'b', 3_600_000, ago(398));
  await markRunning(db, 'd', 3_600_000, ago(397));
  await releaseReservation(db, 'a', ago(100), { outcome: 'completed' });
  await releaseReservation(db, 'b', ago(50), { outcome: 'failed' });
  await cancelWorkflowReservations(db, 'train', ago(30)); // c: cancelled while it waited
  // d keeps running: not an execution yet
});
afterAll(async () => {
  await dropSchema(db);
});

describe('loadExecutions from the execution records', () => {
  it('a record per ended attempt, oldest first', async () => {
    const records = await loadExecutions(db, {});
    expect(records.map((r) => [r.workflowId, r.definitionName, r.outcome, r.nodeId, r.reduced])).toEqual([
      ['etl-1a2b3c4d', 'etl', 'completed', 'n1', false],
      ['etl-00ff00ff', 'etl', 'failed', 'n1', true],
      ['train', 'train', 'cancelled', null, false],
    ]);
    const [a] = records;
    expect(a?.startedAt?.getTime()).toBeLessThan(a?.endedAt.getTime() ?? 0);
    expect(a?.granted).toEqual({ cpu: 4 });
  });

  it.each([
    [{ pipeline: 'etl' }, ['etl-1a2b3c4d', 'etl-00ff00ff']],
    [{ pipeline: 'train' }, ['train']],
    [{ pipeline: 'et' }, []],
    [{ since: new Date(Date.now() - 75_000) }, ['etl-00ff00ff', 'train']],
    [{ limit: 1 }, ['train']],
  ])('filters %j', async (query, ids) => {
    expect((await loadExecutions(db, query)).map((r) => r.workflowId)).toEqual(ids);
  });
});

describe('qm report from the ledger', () => {
  it('writes the page of the executions in the window', async () => {
    const out = path.join(dir, 'report.html');
    const result = await reportCommand({ out, since: '1h', pipeline: 'etl' }, { withDb: (fn) => fn(db) });
    expect(result).toEqual({ out, executions: 2 });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('2 execution(s) that ended since');
    expect(html).toContain('id="s0-gantt-0"');
    expect(html).toContain('node n1');
  });

  it('rejects a bad --since before touching the database', async () => {
    await expect(
      reportCommand(
        { out: path.join(dir, 'x.html'), since: 'soon' },
        { withDb: () => Promise.reject(new Error('no')) },
      ),
    ).rejects.toMatchObject({ name: 'InvalidDurationError', value: 'soon' });
  });
});
