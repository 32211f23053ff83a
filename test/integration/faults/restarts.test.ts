import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pipelineResult, startPipeline } from '../../../src/client';
import type { PipelineDefinition } from '../../../src/definition/types';
import { defineStage } from '../../../src/handlers/registry';
import { freePort } from '../../../src/services/free-port';
import { startTemporalDevServer, type TemporalDevServer } from '../../../src/services/temporal-dev-server';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';
import { until } from '../../support/poll';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

// The two servers of a deployment stopped and started again mid-run, with their state on disk: pipelines
// finish, every stage runs once, and the ledger ends with nothing held.

/** A PostgreSQL in a child process (test/support/pg-server.js) that the test stops and starts. */
async function controlledPostgres(dataDir: string, port: number) {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', '..', 'support', 'pg-server.js'), dataDir, String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const say = async (command: string, answer: string): Promise<void> => {
    const seen = out.split('\n').filter((l) => l === answer).length;
    child.stdin.write(`${command}\n`);
    await until(
      `postgres ${answer}`,
      async () => (out.split('\n').filter((l) => l === answer).length > seen ? true : undefined),
      60_000,
    );
  };
  await say('start', 'started');
  return {
    connectionString: `postgres://postgres:quartermaster@127.0.0.1:${port}/postgres`,
    stop: () => say('stop', 'stopped'),
    start: () => say('start', 'started'),
    exit: async () => {
      child.stdin.write('exit\n');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const runs = new Map<string, number>();
const counted = defineStage('test.counted', async ({ workflowId, stageId, input }) => {
  runs.set(`${workflowId}/${stageId}`, (runs.get(`${workflowId}/${stageId}`) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, (input as { ms: number }).ms));
  return { ran: true };
});

const definition: PipelineDefinition = {
  name: 'restarts',
  stages: [
    {
      id: 'first',
      handler: 'test.counted',
      priority: 5,
      input: { ms: 4000 },
      resources: { desired: { cpu: 2 } },
    },
    {
      id: 'second',
      handler: 'test.counted',
      priority: 5,
      input: { ms: 100 },
      dependsOn: ['first'],
      resources: { desired: { cpu: 2 } },
    },
  ],
};

async function liveRows(url: string, schema: string, workflowId: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ state: string }>(
      `SELECT state FROM ${schema}.qm_reservations WHERE workflow_id = $1 ORDER BY requested_at`,
      [workflowId],
    );
    return rows.map((r) => r.state);
  } finally {
    await c.end();
  }
}

test('PostgreSQL stopped for 6 s while a stage runs and the next one asks: the pipeline completes, each stage once', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-pg-restart-'));
  chmodSync(tmp, 0o755);
  const port = await freePort();
  const dataDir = path.join(tmp, 'pg');
  const server = await controlledPostgres(dataDir, port);
  const schema = `qm_pgrestart_${Date.now()}`;
  const cluster: TestTemporal = await startTestWorker({
    schema,
    databaseUrl: server.connectionString,
    node: { id: 'n', capacity: { cpu: 4 }, monitor: false },
    handlers: [counted],
  });
  try {
    const id = uniqueId('pg-restart');
    const h = await startPipeline(cluster.client, definition, {
      taskQueue: cluster.taskQueue,
      workflowId: id,
    });
    await until('first running', async () =>
      (await liveRows(server.connectionString, schema, id)).includes('running') ? true : undefined,
    );
    await server.stop();
    await new Promise((r) => setTimeout(r, 6000));
    await server.start();
    const result = await pipelineResult(h);
    expect(result.status).toBe('completed');
    expect([runs.get(`${id}/first`), runs.get(`${id}/second`)]).toEqual([1, 1]);
    const states = await liveRows(server.connectionString, schema, id);
    expect(states.filter((s) => s === 'pending' || s === 'granted' || s === 'running')).toEqual([]);
    expect(states.filter((s) => s === 'released')).toHaveLength(2);
  } finally {
    await cluster.close();
    await server.exit();
    rmSync(tmp, { recursive: true, force: true });
  }
}, 180_000);

test('the Temporal server stopped for 3 s mid-stage (state on disk): the pipeline completes, each stage once', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-temporal-restart-'));
  const port = await freePort();
  const dbFilename = path.join(tmp, 'temporal.db');
  let temporal: TemporalDevServer = await startTemporalDevServer({ port, dbFilename });
  const db = await openTestDatabase('qm_trestart');
  const cluster: TestTemporal = await startTestWorker({
    schema: db.schema,
    temporalAddress: temporal.address,
    node: { id: 'n', capacity: { cpu: 4 }, monitor: false },
    handlers: [counted],
  });
  try {
    const id = uniqueId('temporal-restart');
    const h = await startPipeline(cluster.client, definition, {
      taskQueue: cluster.taskQueue,
      workflowId: id,
    });
    await until('first running', async () =>
      (await liveRows(testEnv.databaseUrl, db.schema, id)).includes('running') ? true : undefined,
    );
    await temporal.stop();
    await new Promise((r) => setTimeout(r, 3000));
    temporal = await startTemporalDevServer({ port, dbFilename });
    const result = await pipelineResult(h);
    expect(result.status).toBe('completed');
    expect([runs.get(`${id}/first`), runs.get(`${id}/second`)]).toEqual([1, 1]);
    const states = await liveRows(testEnv.databaseUrl, db.schema, id);
    expect(states.filter((s) => s === 'pending' || s === 'granted' || s === 'running')).toEqual([]);
  } finally {
    await cluster.close();
    await temporal.stop();
    await dropSchema(db);
    rmSync(tmp, { recursive: true, force: true });
  }
}, 180_000);
