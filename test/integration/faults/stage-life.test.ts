import net from 'node:net';
import path from 'node:path';
import { RUN_HEARTBEAT_TIMEOUT_MS } from '../../../src/admission/constants';
import { pipelineResult, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import { defineStage } from '../../../src/handlers/registry';
import type { Database } from '../../../src/ledger/db';
import { nodesOutput } from '../../../src/cli/commands/ledger';
import { registerNode } from '../../../src/ledger/nodes';
import { spawnWorker, type ChildWorker } from '../../support/child-worker';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';
import { watchLedger } from '../../support/ledger-watch';
import { until } from '../../support/poll';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// The fault suite of the admission protocol (src/admission): each test breaks something at the worst moment
// and asserts the pipeline still ends right, with the ledger's invariant watched throughout.

interface Row {
  key: string;
  stage_id: string;
  state: string;
  node_id: string | null;
  workflow_id: string;
}

async function rows(db: Database, where = 'true', values: unknown[] = []): Promise<Row[]> {
  const { rows: r } = await db.pool.query<Row>(
    `SELECT key, stage_id, state, node_id, workflow_id FROM qm_reservations WHERE ${where} ORDER BY requested_at, key`,
    values,
  );
  return r;
}

/** A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones refused). */
async function startProxy(target: URL): Promise<{ port: number; cut(): void; close(): void }> {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  return { port, cut, close: () => (cut(), server.close()) };
}

const runs = new Map<string, number>();
const countRun = (workflowId: string, stageId: string): void => {
  const k = `${workflowId}/${stageId}`;
  runs.set(k, (runs.get(k) ?? 0) + 1);
};
let releaseStubborn: (() => void) | undefined;

let db: Database;
let cluster: TestTemporal;

beforeAll(async () => {
  db = await openTestDatabase('qm_faults');
  cluster = await startTestWorker({
    schema: db.schema,
    leaseMs: 6000,
    node: { id: 'main', capacity: { cpu: 8 }, monitor: false },
    handlers: [
      defineStage('test.counted', async ({ workflowId, stageId, input, signal }) => {
        countRun(workflowId, stageId);
        const ms = (input as { ms?: number }).ms ?? 0;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        return { ran: true };
      }),
      // Ignores its abort: runs until the test lets it go.
      defineStage('test.stubborn', async ({ workflowId, stageId }) => {
        countRun(workflowId, stageId);
        await new Promise<void>((resolve) => (releaseStubborn = resolve));
        return { stubborn: true };
      }),
    ],
  });
});
afterAll(async () => {
  releaseStubborn?.();
  await cluster.close();
  await dropSchema(db);
});

test('two independent stages, one admitted while the other finishes: each runs exactly once (20 runs)', async () => {
  const watch = watchLedger(db, 'main');
  const definition: PipelineDefinition = {
    name: 'race',
    stages: [
      {
        id: 'big',
        handler: 'test.counted',
        priority: 5,
        input: { ms: 300 },
        resources: { desired: { cpu: 4 } },
      },
      { id: 'quick', handler: 'test.counted', priority: 5, input: { ms: 0 } },
      { id: 'after', handler: 'test.counted', priority: 5, input: { ms: 0 }, dependsOn: ['quick'] },
    ],
  };
  const ids = Array.from({ length: 20 }, () => uniqueId('race'));
  const handles = await Promise.all(
    ids.map((workflowId) =>
      startPipeline(cluster.client, definition, { taskQueue: cluster.taskQueue, workflowId }),
    ),
  );
  const results = await Promise.all(handles.map((h) => pipelineResult(h)));
  expect(results.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
  for (const id of ids) {
    expect([runs.get(`${id}/big`), runs.get(`${id}/quick`), runs.get(`${id}/after`)]).toEqual([1, 1, 1]);
  }
  // One reservation per pipeline, released.
  const r = await rows(db, `workflow_id LIKE 'race-%'`);
  expect(r).toHaveLength(20);
  expect(new Set(r.map((x) => x.state))).toEqual(new Set(['released']));
  const { maxCpu, violations } = await watch.stop();
  expect(violations).toBe(0);
  expect(maxCpu).toBeLessThanOrEqual(8);
});

test('a terminated waiting pipeline leaves the queue within two lease periods; it never holds capacity', async () => {
  // A blocker holds the whole node; the victim waits behind it.
  const blocker = await startPipeline(
    cluster.client,
    {
      name: 'blocker',
      stages: [
        {
          id: 'b',
          handler: 'test.counted',
          priority: 5,
          input: { ms: 20_000 },
          resources: { desired: { cpu: 8 } },
        },
      ],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('blocker') },
  );
  await until('blocker running', async () =>
    (await rows(db, `workflow_id = $1 AND state = 'running'`, [blocker.workflowId])).length > 0
      ? true
      : undefined,
  );
  const victim = await startPipeline(
    cluster.client,
    {
      name: 'victim',
      stages: [{ id: 'v', handler: 'test.counted', priority: 10, resources: { desired: { cpu: 2 } } }],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('victim') },
  );
  await until('victim pending', async () =>
    (await rows(db, `workflow_id = $1 AND state = 'pending'`, [victim.workflowId])).length > 0
      ? true
      : undefined,
  );
  const terminatedAt = Date.now();
  await victim.terminate('test: the requester disappears');
  await until(
    'victim request gone from the queue',
    async () =>
      (await rows(db, `workflow_id = $1 AND state = 'pending'`, [victim.workflowId])).length === 0
        ? true
        : undefined,
    20_000,
  );
  // The waiter learns of the termination at its next heartbeat (Temporal throttles them to 80 % of the 20 s
  // heartbeat timeout) and withdraws; failing that its 6 s lease lapses and the next 5 s tick expires it.
  expect(Date.now() - terminatedAt).toBeLessThan(16_000 + 6000 + 5000);
  // Its one attempt is recorded (execution data) by whichever ended it: the withdrawal or the expiry.
  const { rows: recorded } = await db.pool.query<{ outcome: string; started_at: Date | null }>(
    `SELECT outcome, started_at FROM qm_executions WHERE workflow_id = $1`,
    [victim.workflowId],
  );
  expect(recorded).toHaveLength(1);
  expect(['cancelled', 'expired']).toContain(recorded[0]?.outcome);
  expect(recorded[0]?.started_at).toBeNull();
  await blocker.cancel();
  await pipelineResult(blocker).catch(() => undefined);
});

test('cancelling a pipeline whose handler ignores its abort keeps its capacity held until the handler ends', async () => {
  const stubborn = await startPipeline(
    cluster.client,
    {
      name: 'stubborn',
      stages: [{ id: 's', handler: 'test.stubborn', priority: 5, resources: { desired: { cpu: 8 } } }],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('stubborn') },
  );
  await until('stubborn running', async () =>
    (await rows(db, `workflow_id = $1 AND state = 'running'`, [stubborn.workflowId])).length > 0
      ? true
      : undefined,
  );
  await stubborn.cancel();
  const next = await startPipeline(
    cluster.client,
    {
      name: 'next',
      stages: [{ id: 'n', handler: 'test.counted', priority: 10, resources: { desired: { cpu: 4 } } }],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('next') },
  );
  // Long enough for the abort to reach the handler and for any early release to be granted away.
  await new Promise((r) => setTimeout(r, 8000));
  expect((await rows(db, `workflow_id = $1`, [stubborn.workflowId])).map((r) => r.state)).toEqual([
    'running',
  ]);
  expect((await rows(db, `workflow_id = $1`, [next.workflowId])).map((r) => r.state)).toEqual(['pending']);
  releaseStubborn?.();
  await pipelineResult(stubborn).catch(() => undefined);
  await until('stubborn released', async () =>
    (await rows(db, `workflow_id = $1 AND state = 'released'`, [stubborn.workflowId])).length > 0
      ? true
      : undefined,
  );
  expect((await pipelineResult(next)).status).toBe('completed');
});

test('one malformed pending row and one garbage forecast do not stop admission', async () => {
  await db.pool.query(
    `INSERT INTO qm_reservations (key, workflow_id, stage_id, priority, importance, desired, minimum, state,
                                  requested_at, updated_at, lease_expires_at)
     VALUES ('bad-row', 'nobody', 'x', 9, 0, '{"cpu": -5}', '{"cpu": 3}', 'pending', now(), now(), now() + interval '1 hour')`,
  );
  await db.pool.query(
    `UPDATE qm_nodes SET forecast = '{"10": {"cpu": {"value": -4, "upper": "high"}}}', usage_at = now() WHERE id = 'main'`,
  );
  const h = await startPipeline(
    cluster.client,
    {
      name: 'survivor',
      stages: [{ id: 's', handler: 'test.counted', priority: 3, resources: { desired: { cpu: 1 } } }],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('survivor') },
  );
  expect((await pipelineResult(h)).status).toBe('completed');
  await db.pool.query(`DELETE FROM qm_reservations WHERE key = 'bad-row'`);
});

test('a node re-registered below its grants gets nothing new until they fit again', async () => {
  await registerNode(db, { id: 'shrinking', capacity: { cpu: 4 } });
  // A grant of 4 cpus on it, recorded directly (its holder is this test).
  await db.pool.query(
    `INSERT INTO qm_reservations (key, workflow_id, stage_id, priority, importance, desired, minimum, state,
                                  requested_at, updated_at, granted_at, lease_expires_at, node_id, granted)
     VALUES ('held-4', 'holder', 'x', 5, 0, '{"cpu": 4}', '{"cpu": 4}', 'running', now(), now(), now(),
             now() + interval '1 hour', 'shrinking', '{"cpu": 4}')`,
  );
  await registerNode(db, { id: 'shrinking', capacity: { cpu: 2, memoryMb: 1024 } });
  const listed = JSON.parse(await nodesOutput(db, { json: true })) as Array<{
    id: string;
    overcommitted: boolean;
  }>;
  expect(listed.find((n) => n.id === 'shrinking')?.overcommitted).toBe(true);
  // A stage that asks only for memory would fit on "shrinking" by memory alone; "main" has none.
  const h = await startPipeline(
    cluster.client,
    {
      name: 'memory-only',
      stages: [{ id: 'm', handler: 'test.counted', priority: 5, resources: { desired: { memoryMb: 512 } } }],
    },
    { taskQueue: cluster.taskQueue, workflowId: uniqueId('memonly') },
  );
  await new Promise((r) => setTimeout(r, 4000));
  expect((await rows(db, `workflow_id = $1`, [h.workflowId])).map((r) => r.state)).toEqual(['pending']);
  await db.pool.query(`UPDATE qm_reservations SET state = 'released', ended_at = now() WHERE key = 'held-4'`);
  // Fits again: granted there (keep the node fresh meanwhile).
  const beat = setInterval(
    () => void registerNode(db, { id: 'shrinking', capacity: { cpu: 2, memoryMb: 1024 } }),
    1000,
  );
  try {
    await until(
      'memory-only granted on the shrunk node',
      async () =>
        (await rows(db, `workflow_id = $1 AND node_id = 'shrinking'`, [h.workflowId])).length > 0
          ? true
          : undefined,
      30_000,
    );
  } finally {
    clearInterval(beat);
  }
  await h.terminate('done: the shrunk node has no worker to run it');
});

describe('a node worker that dies or lies', () => {
  let doomed: ChildWorker | undefined;
  afterEach(async () => {
    await doomed?.kill();
    doomed = undefined;
  });

  const nodeArgs = (node: string): string[] => [
    '--task-queue',
    cluster.taskQueue,
    '--node',
    node,
    '--capacity',
    'cpu=4',
    '--no-monitor',
    '--node-only',
  ];
  /** Fills "main" (all 8 cpu, for a minute) so the next stage must run on the node under test. */
  const fillMain = () =>
    startPipeline(
      cluster.client,
      {
        name: 'filler',
        stages: [
          {
            id: 'f',
            handler: 'test.counted',
            priority: 5,
            input: { ms: 60_000 },
            resources: { desired: { cpu: 8 } },
          },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: uniqueId('filler') },
    );
  const childEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    QM_SCHEMA: db.schema,
    QM_SCHEDULER_WORKFLOW_ID: cluster.schedulerWorkflowId,
    QM_LEASE_MS: '6000',
    ...extra,
  });

  test('kill -9 mid-stage: the retry runs on a healthy node within lease + 10 s, with maximumAttempts 2', async () => {
    // Fill "main" so the stage must land on the doomed node first.
    const filler = await fillMain();
    await until('filler running', async () =>
      (await rows(db, `workflow_id = $1 AND state = 'running'`, [filler.workflowId])).length > 0
        ? true
        : undefined,
    );
    doomed = await spawnWorker(nodeArgs('doomed'), childEnv());
    const h = await startPipeline(
      cluster.client,
      {
        name: 'survives-kill',
        stages: [
          {
            id: 'work',
            handler: 'qm.sleep',
            priority: 8,
            input: { ms: 8000 },
            retry: { maximumAttempts: 2, initialIntervalSeconds: 1 },
            resources: { desired: { cpu: 4 } },
          },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: uniqueId('kill') },
    );
    await until('running on doomed', async () =>
      (await rows(db, `workflow_id = $1 AND state = 'running' AND node_id = 'doomed'`, [h.workflowId]))
        .length > 0
        ? true
        : undefined,
    );
    await doomed.kill();
    const killedAt = Date.now();
    await filler.cancel();
    const result = await pipelineResult(h);
    expect(result.stages.work).toMatchObject({ status: 'completed', node: 'main', attempts: 2 });
    const second = await rows(db, `workflow_id = $1 AND node_id = 'main'`, [h.workflowId]);
    expect(second).toHaveLength(1);
    // Re-admitted and running on the healthy node within lease + 10 s of the kill (the bound, with the
    // default 30 s lease); in fact within the 15 s heartbeat timeout that notices the dead node, plus 10 s.
    const { rows: started } = await db.pool.query<{ started_at: Date }>(
      `SELECT started_at FROM qm_reservations WHERE key = $1`,
      [second[0]?.key],
    );
    expect((started[0]?.started_at.getTime() ?? Infinity) - killedAt).toBeLessThan(
      RUN_HEARTBEAT_TIMEOUT_MS + 10_000,
    );
    // Execution data: the dead worker's attempt is recorded `expired` (its 6 s lease lapsed before the 15 s
    // heartbeat timeout told the workflow), the retry `completed`: one record per attempt.
    const { rows: recorded } = await db.pool.query<{ attempt: number; outcome: string; node_id: string }>(
      `SELECT attempt, outcome, node_id FROM qm_executions WHERE workflow_id = $1 ORDER BY attempt`,
      [h.workflowId],
    );
    expect(recorded).toEqual([
      { attempt: 1, outcome: 'expired', node_id: 'doomed' },
      { attempt: 2, outcome: 'completed', node_id: 'main' },
    ]);
  });

  test('a worker whose clock is 5 minutes off (ahead, then behind) changes nothing', async () => {
    for (const skew of [5 * 60_000, -5 * 60_000]) {
      doomed = await spawnWorker(
        nodeArgs('skewed'),
        childEnv({
          NODE_OPTIONS: `--require ${path.join(__dirname, '..', '..', 'support', 'skew-clock.js')}`,
          QM_TEST_CLOCK_SKEW_MS: String(skew),
        }),
      );
      // Fill main so the stage must run on the skewed node, for longer than a lease.
      const filler = await fillMain();
      const h = await startPipeline(
        cluster.client,
        {
          name: 'skewed',
          stages: [
            {
              id: 'work',
              handler: 'qm.sleep',
              priority: 8,
              input: { ms: 9000 },
              retry: { maximumAttempts: 1 },
              resources: { desired: { cpu: 4 } },
            },
          ],
        },
        { taskQueue: cluster.taskQueue, workflowId: uniqueId('skew') },
      );
      const result = await pipelineResult(h);
      expect(result.stages.work).toMatchObject({ status: 'completed', node: 'skewed', attempts: 1 });
      expect((await rows(db, `workflow_id = $1`, [h.workflowId])).map((r) => r.state)).toEqual(['released']);
      await filler.cancel();
      await pipelineResult(filler).catch(() => undefined);
      await doomed.kill();
      doomed = undefined;
    }
  });
  test('a node cut off from the ledger fences itself: its handler is aborted before its lease ends', async () => {
    const proxy = await startProxy(new URL(testEnv.databaseUrl));
    const viaProxy = new URL(testEnv.databaseUrl);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    doomed = await spawnWorker(nodeArgs('cutoff'), childEnv({ DATABASE_URL: viaProxy.toString() }));
    const filler = await fillMain();
    const h = await startPipeline(
      cluster.client,
      {
        name: 'fenced',
        stages: [
          {
            id: 'work',
            handler: 'qm.sleep',
            priority: 8,
            input: { ms: 60_000 },
            retry: { maximumAttempts: 1 },
            resources: { desired: { cpu: 4 } },
          },
        ],
      },
      { taskQueue: cluster.taskQueue, workflowId: uniqueId('fence') },
    );
    await until('running on the node to be cut off', async () =>
      (await rows(db, `workflow_id = $1 AND state = 'running' AND node_id = 'cutoff'`, [h.workflowId]))
        .length > 0
        ? true
        : undefined,
    );
    proxy.cut();
    const result = await h
      .result()
      .catch((err: { cause?: { details?: unknown[] } }) => err.cause?.details?.[0]);
    const stage = (result as { stages: Record<string, { status: string; error?: string }> }).stages.work;
    expect(stage?.status).toBe('failed');
    expect(stage?.error).toContain('fenced');
    // It stopped before its lease ended: the failure is in history before the lease's last expiry.
    const { rows: lease } = await db.pool.query<{ lease_expires_at: Date }>(
      `SELECT lease_expires_at FROM qm_reservations WHERE workflow_id = $1`,
      [h.workflowId],
    );
    const history = await cluster.client.workflow.getHandle(h.workflowId).fetchHistory();
    const failed = (history.events ?? []).find((e) => e.activityTaskFailedEventAttributes);
    const failedAtMs =
      Number(failed?.eventTime?.seconds ?? 0) * 1000 + Math.floor((failed?.eventTime?.nanos ?? 0) / 1e6);
    expect(failedAtMs).toBeGreaterThan(0);
    expect(failedAtMs).toBeLessThan(lease[0]?.lease_expires_at.getTime() ?? 0);
    await filler.cancel();
    await pipelineResult(filler).catch(() => undefined);
    proxy.close();
  });
});
