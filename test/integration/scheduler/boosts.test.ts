import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { signBoostCapability } from '../../../src/boosts/capability-mac';
import { pipelineResult, pipelineStatus, startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { listBoostAudit } from '../../../src/ledger/boosts';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

let db: Database;
let t: TestTemporal;
const ADMIN = 'test-admin-token-0123456789';

beforeAll(async () => {
  process.env.QM_ADMIN_TOKEN = ADMIN; // read by the verifyBoostCapability local activity of the in-process worker
  db = await openTestDatabase('qm_boost');
  t = await startTestWorker({ schema: db.schema, node: { id: 'b1', capacity: { cpu: 4 }, monitor: false } });
});
afterAll(async () => {
  delete process.env.QM_ADMIN_TOKEN;
  await t.close();
  await dropSchema(db);
});

function oneStage(name: string, priority: number, ms: number) {
  return {
    name,
    stages: [
      { id: 'work', handler: 'qm.sleep', priority, input: { ms }, resources: { desired: { cpu: 4 } } },
    ],
  };
}
const start = (def: unknown) =>
  startPipeline(t.client, def, { taskQueue: t.taskQueue, workflowId: uniqueId('boost') });

test('a boosted lower-priority pipeline overtakes; the boost is audited and shows in status and search attributes', async () => {
  const blocker = await start(oneStage('blocker', 5, 2500));
  await new Promise((r) => setTimeout(r, 700));
  const plain = await start(oneStage('plain-p4', 4, 300));
  const boosted = await start(oneStage('boosted-p3', 3, 300));
  const result = await boosted.executeUpdate('boost', {
    args: [{ amount: 3, ttlSeconds: 600, reason: 'release day', actor: 'test' }],
  });
  expect(result).toMatchObject({ importance: 3 });
  await pipelineResult(blocker);
  const [p, b] = await Promise.all([pipelineResult(plain), pipelineResult(boosted)]);
  expect(Date.parse(b.stages.work?.startedAt ?? '')).toBeLessThan(Date.parse(p.stages.work?.startedAt ?? ''));

  const audit = await listBoostAudit(db, boosted.workflowId);
  expect(audit).toEqual([
    expect.objectContaining({ action: 'added', amount: 3, reason: 'release day', actor: 'test' }),
  ]);
  const status = await pipelineStatus(boosted);
  expect(status.importance).toBe(3);
  expect(status.boosts).toHaveLength(1);
  expect((await boosted.describe()).searchAttributes.QmImportance).toEqual([3]);
});

test('out-of-range boosts are rejected with the field named and never reach history; an admin capability lifts limits, the secret never enters history', async () => {
  const handle = await start(oneStage('limits', 2, 1500));
  const refuse = async (args: Record<string, unknown>, field: string) => {
    const err = await handle.executeUpdate('boost', { args: [args] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((err as WorkflowUpdateFailedError).cause?.message).toContain(`boost.${field}`);
  };
  await refuse({ amount: 5, ttlSeconds: 60, reason: 'too much' }, 'amount');
  await refuse({ amount: 0, ttlSeconds: 60, reason: 'zero' }, 'amount');
  await refuse({ amount: 1, ttlSeconds: 7200, reason: 'too long' }, 'ttlSeconds');
  await refuse({ amount: 1, ttlSeconds: 60, reason: '' }, 'reason');
  // The raw secret is refused (it would be stored in history); a capability signed with it lifts the limits.
  await refuse({ amount: 1, ttlSeconds: 60, reason: 'x', token: ADMIN }, 'token');
  const admin = { amount: 8, ttlSeconds: 7200, reason: 'admin' };
  const capability = signBoostCapability(ADMIN, { workflowId: handle.workflowId, ...admin });
  await refuse({ ...admin, amount: 9, capability }, 'capability'); // a larger amount than signed
  await refuse(
    { ...admin, capability: signBoostCapability(ADMIN, { workflowId: 'another-pipeline', ...admin }) },
    'capability',
  );
  await refuse({ amount: 11, ttlSeconds: 60, reason: 'x', capability }, 'amount');
  // A wrong MAC passes the validator (only the secret's holder can tell) and fails in the handler.
  await refuse(
    {
      ...admin,
      capability: signBoostCapability('not-the-secret', { workflowId: handle.workflowId, ...admin }),
    },
    'capability',
  );
  const ok = await handle.executeUpdate('boost', { args: [{ ...admin, capability }] });
  expect(ok).toMatchObject({ importance: 8 });
  await refuse({ ...admin, capability }, 'capability'); // replayed: the nonce is single-use

  // an invalid boost *signal* is ignored and shown in status
  await handle.signal('boost', { amount: 99, ttlSeconds: 60, reason: 'signal' });
  const status = await pipelineStatus(handle);
  expect(status.ignoredBoosts?.[0]?.error).toContain('boost.amount');
  expect(status.importance).toBe(8);
  await pipelineResult(handle);

  const history = await handle.fetchHistory();
  const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(accepted).toHaveLength(2); // the valid admin boost, and the one whose MAC the worker refused
  // Neither the secret nor anything derived from it (the old unsalted SHA-256 marker) is in history.
  const text = JSON.stringify(history);
  expect(text).not.toContain(ADMIN);
  expect(text).not.toContain(createHash('sha256').update(ADMIN).digest('hex'));
  expect(text).not.toContain(Buffer.from(ADMIN).toString('base64').slice(0, 20));
});

test('a boost expires by itself: importance and the search attribute fall back', async () => {
  const handle = await start(oneStage('short', 2, 4000));
  await handle.executeUpdate('boost', { args: [{ amount: 2, ttlSeconds: 1, reason: 'blip' }] });
  expect((await pipelineStatus(handle)).importance).toBe(2);
  await new Promise((r) => setTimeout(r, 1600));
  expect((await pipelineStatus(handle)).importance).toBe(0);
  expect((await handle.describe()).searchAttributes.QmImportance).toEqual([0]);
  await pipelineResult(handle);
});

test('boosts are capped in total: 20 updates of 3 stop at the cap of 10 (they stacked to 60 before)', async () => {
  const handle = await start(oneStage('capped', 2, 4000));
  const outcomes: Array<number | string> = [];
  for (let i = 0; i < 20; i++) {
    const r = await handle
      .executeUpdate('boost', { args: [{ amount: 3, ttlSeconds: 600, reason: `try ${i}` }] })
      .then(
        (ok) => (ok as { importance: number }).importance,
        (err: unknown) => (err as WorkflowUpdateFailedError).cause?.message ?? String(err),
      );
    outcomes.push(r);
  }
  expect(outcomes.slice(0, 3)).toEqual([3, 6, 9]);
  for (const refused of outcomes.slice(3)) expect(refused).toEqual(expect.stringContaining('cap of 10'));
  // An over-cap signal is ignored; exactly up to the cap is fine.
  await handle.signal('boost', { amount: 3, ttlSeconds: 60, reason: 'over' });
  const topUp = await handle.executeUpdate('boost', {
    args: [
      {
        amount: 1,
        ttlSeconds: 600,
        reason: 'to ten',
        capability: signBoostCapability(ADMIN, {
          workflowId: handle.workflowId,
          amount: 1,
          ttlSeconds: 600,
          reason: 'to ten',
        }),
      },
    ],
  });
  expect(topUp).toMatchObject({ importance: 10 });
  const status = await pipelineStatus(handle);
  expect(status.importance).toBe(10);
  expect(status.ignoredBoosts?.[0]?.error).toContain('cap of 10');
  await pipelineResult(handle);
});

test('five invalid boost signals with a 1 MB reason keep the status query small (it broke for good before)', async () => {
  const handle = await start(oneStage('huge-reason', 2, 1500));
  const reason = 'x'.repeat(1_000_000);
  for (let i = 0; i < 5; i++) await handle.signal('boost', { amount: 1, ttlSeconds: 60, reason });
  const status = await pipelineStatus(handle);
  expect(status.ignoredBoosts).toHaveLength(5);
  expect(status.ignoredBoostCount).toBe(5);
  expect(JSON.stringify(status).length).toBeLessThan(20_000);
  expect(status.ignoredBoosts?.[0]).toMatchObject({ field: 'reason' });
  await pipelineResult(handle);
});
