import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import type { Database } from '../../../src/ledger/db';
import { getDefinition } from '../../../src/ledger/definitions';
import type { PipelineResult } from '../../../src/pipeline/types';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';
import { startTestWorker, type TestTemporal } from '../../support/temporal';

let t: TestTemporal;
let db: Database;
const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-cli-'));

beforeAll(async () => {
  [t, db] = await Promise.all([startTestWorker(), openTestDatabase('qm_cli')]);
  process.env.DATABASE_URL = testEnv.databaseUrl;
  process.env.QM_SCHEMA = db.schema;
  process.env.TEMPORAL_ADDRESS = testEnv.temporalAddress;
});
afterAll(async () => {
  await t.close();
  await dropSchema(db);
});

/** Runs `qm ARGS` in-process, capturing stdout and stderr. */
async function qm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

function file(name: string, content: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

test('qm validate: exit 0 for a valid YAML file, exit 2 with one line per problem otherwise', async () => {
  const good = file('good.yaml', 'name: y\nstages:\n  - id: a\n    handler: qm.echo\n    priority: 3\n');
  expect(await qm('validate', good)).toMatchObject({ code: 0 });
  const bad = file(
    'bad.json',
    JSON.stringify({
      name: 'b',
      stages: [
        { id: 'a', handler: 'qm.echo', priority: 0 },
        { id: 'a', priority: 3 },
      ],
    }),
  );
  const r = await qm('validate', bad);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(r.stderr).toContain('stages[0].priority');
  expect(r.stderr).toContain('stages[1].id');
  expect(r.stderr).toContain('stages[1].handler');
});

test('qm register stores versions; qm submit NAME --wait runs the latest', async () => {
  const name = uniqueId('reg');
  const v1 = file(
    'v1.json',
    JSON.stringify({ name, stages: [{ id: 's', handler: 'qm.sum', priority: 5, input: { numbers: [1] } }] }),
  );
  const v2 = file(
    'v2.json',
    JSON.stringify({
      name,
      stages: [{ id: 's', handler: 'qm.sum', priority: 5, input: { numbers: [1, 41] } }],
    }),
  );
  expect((await qm('register', v1)).stdout).toContain('version 1');
  expect((await qm('register', v1)).stdout).toContain('nothing changed');
  expect((await qm('register', v2)).stdout).toContain('version 2');
  expect((await getDefinition(db, name)).version).toBe(2);

  const id = uniqueId('submitted');
  const r = await qm('submit', name, '--id', id, '--task-queue', t.taskQueue, '--wait', '--input', '{"x":1}');
  expect(r.code).toBe(0);
  const result = JSON.parse(r.stdout) as PipelineResult;
  expect(result.status).toBe('completed');
  expect(result.stages.s?.output).toBe(42);
  expect(r.stderr).toContain('completed');

  const v1run = await qm('submit', `${name}@1`, '--task-queue', t.taskQueue, '--wait');
  expect((JSON.parse(v1run.stdout) as PipelineResult).stages.s?.output).toBe(1);

  const status = await qm('status', id, '--json');
  expect(JSON.parse(status.stdout)).toMatchObject({ name, state: 'completed' });
});

test('qm submit of an unknown name exits 2 naming it; bad --input exits 2', async () => {
  const r = await qm('submit', 'no-such-pipeline', '--task-queue', t.taskQueue);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('no-such-pipeline');
  const good = file(
    'ok.json',
    JSON.stringify({ name: 'ok', stages: [{ id: 'a', handler: 'qm.echo', priority: 1 }] }),
  );
  const bad = await qm('submit', good, '--input', '{nope', '--task-queue', t.taskQueue);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--input');
});

test('a dead database is reported as unavailable (exit 3), not a crash', async () => {
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = 'postgres://postgres:x@127.0.0.1:1/postgres';
  try {
    const r = await qm(
      'register',
      file('d.json', JSON.stringify({ name: 'd', stages: [{ id: 'a', handler: 'qm.echo', priority: 1 }] })),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('database unavailable');
  } finally {
    process.env.DATABASE_URL = saved;
  }
});

test('qm status: a terminated run says so (from Temporal), waiting and failing stages say why', async () => {
  const workflowId = uniqueId('term');
  const def = file(
    'long.json',
    JSON.stringify({
      name: 'long',
      stages: [
        { id: 'nap', handler: 'qm.sleep', priority: 3, input: { ms: 60_000 } },
        { id: 'later', handler: 'qm.echo', priority: 3, dependsOn: ['nap'] },
      ],
    }),
  );
  expect(await qm('submit', def, '--id', workflowId, '--task-queue', t.taskQueue)).toMatchObject({ code: 0 });
  let running = await qm('status', workflowId);
  for (let i = 0; i < 50 && !/^nap +running +1/m.test(running.stdout); i++) {
    await new Promise((r) => setTimeout(r, 100));
    running = await qm('status', workflowId);
  }
  expect(running.stdout).toMatch(
    /STAGE +STATUS +ATTEMPTS +NODE +ALLOCATION +STARTED +COMPLETED +EST\. START +WAIT REASON \/ ERROR/,
  );
  expect(running.stdout).toMatch(/^nap +running +1/m);
  await t.client.workflow.getHandle(workflowId).terminate('test');
  const after = await qm('status', workflowId);
  expect(after.code).toBe(0);
  expect(after.stdout).toContain(`long  ${workflowId}  terminated`);
  expect(after.stdout).toContain('Temporal says TERMINATED');
  expect(after.stdout).toMatch(/^nap +terminated/m);
  const json = JSON.parse((await qm('status', workflowId, '--json')).stdout) as {
    state: string;
    temporal: { status: string };
  };
  expect(json).toMatchObject({ state: 'terminated', temporal: { status: 'TERMINATED' } });
});
