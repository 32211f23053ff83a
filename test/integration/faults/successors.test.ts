import { pipelineResult, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { dropSchema, openTestDatabase, uniqueId } from '../../support/env';
import { watchLedger } from '../../support/ledger-watch';
import { until } from '../../support/poll';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// Successor grants on the real servers: a stage granted behind a running one waits at runStage's gate, and
// no moment runs more than the node has — measured inside the handlers, not only in the ledger.

const NODE_CPU = 8;
let db: Database;
let cluster: TestTemporal;
/** cpu of the handlers running right now, and the most ever. */
let runningCpu = 0;
let maxRunningCpu = 0;
const runs = new Map<string, number>();

beforeAll(async () => {
  db = await openTestDatabase('qm_succ');
  cluster = await startTestWorker({
    schema: db.schema,
    leaseMs: 6000,
    // Wider than the default 1 s, so that on a loaded machine a request made a few seconds after the
    // predecessor started still finds it eligible (the terminate test needs its successor behind it).
    successorHorizonMs: 5000,
    node: { id: 'succ', capacity: { cpu: NODE_CPU }, monitor: false },
    handlers: [
      // Counts its cpu as running while it runs; `stubborn` ignores its abort (runs its whole time).
      defineStage('test.tracked', async ({ workflowId, stageId, input, allocation, signal }) => {
        const { ms = 0, stubborn = false } = input as { ms?: number; stubborn?: boolean };
        const k = `${workflowId}/${stageId}`;
        runs.set(k, (runs.get(k) ?? 0) + 1);
        const cpu = allocation.cpu ?? 0;
        runningCpu += cpu;
        maxRunningCpu = Math.max(maxRunningCpu, runningCpu);
        try {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, ms);
            if (!stubborn)
              signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
          });
        } finally {
          runningCpu -= cpu;
        }
        return { ran: true };
      }),
    ],
  });
});
afterAll(async () => {
  await cluster.close();
  await dropSchema(db);
});
beforeEach(() => {
  maxRunningCpu = 0;
  runs.clear();
});

const stage = (
  cpu: number,
  input: { ms: number; stubborn?: boolean },
  extra: Partial<PipelineDefinition['stages'][number]> = {},
): PipelineDefinition['stages'][number] => ({
  id: 's',
  handler: 'test.tracked',
  priority: 5,
  input,
  expectedSeconds: input.ms / 1000,
  resources: { desired: { cpu } },
  ...extra,
});

async function row(workflowId: string): Promise<
  | {
      key: string;
      state: string;
      behind: string | null;
      promoted_at: Date | null;
      started_at: Date | null;
      ended_at: Date | null;
    }
  | undefined
> {
  const { rows } = await db.pool.query(
    `SELECT key, state, behind, promoted_at, started_at, ended_at FROM qm_reservations WHERE workflow_id = $1
      ORDER BY requested_at DESC LIMIT 1`,
    [workflowId],
  );
  return rows[0];
}

test('24 half-node stages at once: some are granted behind running ones, none runs before its capacity is free', async () => {
  const watch = watchLedger(db, 'succ');
  const ids = Array.from({ length: 24 }, () => uniqueId('burst'));
  const handles = await Promise.all(
    ids.map((workflowId) =>
      startPipeline(
        cluster.client,
        { name: 'burst', stages: [stage(4, { ms: 300 })] },
        { taskQueue: cluster.taskQueue, workflowId },
      ),
    ),
  );
  const results = await Promise.all(handles.map((h) => pipelineResult(h)));
  expect(results.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
  expect(ids.map((id) => runs.get(`${id}/s`))).toEqual(ids.map(() => 1));
  const seen = await watch.stop();
  expect(seen.violations).toBe(0);
  expect(seen.maxCpu).toBeLessThanOrEqual(NODE_CPU);
  expect(maxRunningCpu).toBeLessThanOrEqual(NODE_CPU);
  expect(maxRunningCpu).toBeGreaterThan(0);
  // The mechanism was used: the burst's stages declare 0.3 s, so waiting heads are granted behind them.
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM qm_reservations WHERE workflow_id = ANY($1) AND promoted_at IS NOT NULL`,
    [ids],
  );
  expect(Number(rows[0]?.n)).toBeGreaterThan(0);
});

test('the predecessor pipeline is terminated while its successor waits at the gate: the successor starts only after the predecessor ends', async () => {
  const watch = watchLedger(db, 'succ');
  // Declares 0.5 s but runs 3 s and ignores its abort: the worst case for a stage granted behind it.
  const predecessor = await startPipeline(
    cluster.client,
    { name: 'pred', stages: [stage(NODE_CPU, { ms: 3000, stubborn: true }, { expectedSeconds: 0.5 })] },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('pred') },
  );
  await until('predecessor running', async () =>
    (await row(predecessor.workflowId))?.state === 'running' ? true : undefined,
  );
  const successor = await startPipeline(
    cluster.client,
    { name: 'succ', stages: [stage(NODE_CPU, { ms: 10 }, { priority: 10 })] },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('succ') },
  );
  const p = await row(predecessor.workflowId);
  await until('successor granted behind the predecessor', async () =>
    (await row(successor.workflowId))?.behind === p?.key ? true : undefined,
  );
  await predecessor.terminate('test: the predecessor pipeline disappears');
  const result = await pipelineResult(successor);
  expect(result.status).toBe('completed');
  const [pred, succ] = [await row(predecessor.workflowId), await row(successor.workflowId)];
  expect(pred?.ended_at).toBeInstanceOf(Date);
  expect(succ?.promoted_at).toBeInstanceOf(Date);
  expect((succ?.started_at as Date).getTime()).toBeGreaterThanOrEqual((pred?.ended_at as Date).getTime());
  expect(maxRunningCpu).toBe(NODE_CPU);
  const seen = await watch.stop();
  expect(seen).toEqual({ maxCpu: NODE_CPU, violations: 0 });
  expect(runs.get(`${successor.workflowId}/s`)).toBe(1);
});
