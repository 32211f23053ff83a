import { Command } from 'commander';
import {
  registerLedgerCommands,
  nodesOutput,
  parsePoolAssignments,
  poolsOutput,
  poolsSetOutput,
} from '../../../src/cli/commands/ledger';
import type { Database } from '../../../src/ledger/db';
import { commitDecisions } from '../../../src/ledger/commit';
import { heartbeatNode, registerNode } from '../../../src/ledger/nodes';
import { requestReservation } from '../../../src/ledger/reservations';
import { dropSchema, openTestDatabase, testEnv } from '../../support/env';

const T0 = new Date('2026-01-01T00:00:00Z');
let db: Database;

beforeAll(async () => {
  db = await openTestDatabase('qm_cli');
  await registerNode(db, { id: 'a', capacity: { cpu: 8, memoryMb: 4096 } }, T0);
  // a's monitor published usage and a +10 s forecast
  await heartbeatNode(db, 'a', T0, {
    usage: { cpu: 1.5 },
    forecast: {
      '10': {
        cpu: { value: 1.6, lower: 1.2, upper: 2.25 },
        memoryMb: { value: 900, lower: 850, upper: 1000 },
      },
    },
  });
  await registerNode(db, { id: 'b', capacity: { cpu: 2 } }, new Date(T0.getTime() - 60_000));
  await poolsSetOutput(db, ['db-connections=20'], T0);
  await requestReservation(
    db,
    { key: 'r', workflowId: 'w', stageId: 's', priority: 5, desired: { cpu: 3, 'db-connections': 5 } },
    T0,
  );
  await commitDecisions(
    db,
    [{ key: 'r', nodeId: 'a', granted: { cpu: 3, 'db-connections': 5 }, leaseMs: 60_000 }],
    T0,
  );
});
afterAll(async () => {
  await dropSchema(db);
});

describe('qm nodes / qm pools', () => {
  it('nodes --json prints id, taskQueue, capacity, granted, free, stale (and the usage forecast)', async () => {
    expect(JSON.parse(await nodesOutput(db, { json: true }, T0))).toEqual([
      {
        id: 'a',
        taskQueue: 'quartermaster-node-a',
        capacity: { cpu: 8, memoryMb: 4096 },
        granted: { cpu: 3 },
        free: { cpu: 5, memoryMb: 4096 },
        stale: false,
        overcommitted: false,
        forecast: { cpu: { value: 1.6, upper: 2.25 }, memoryMb: { value: 900, upper: 1000 } },
      },
      {
        id: 'b',
        taskQueue: 'quartermaster-node-b',
        capacity: { cpu: 2 },
        granted: {},
        free: { cpu: 2 },
        stale: true,
        overcommitted: false,
        forecast: null,
      },
    ]);
  });

  it('nodes prints a table', async () => {
    const out = await nodesOutput(db, {}, T0);
    expect(out.split('\n')[0]).toMatch(
      /^ID\s+TASK QUEUE\s+CAPACITY\s+GRANTED\s+FREE\s+USAGE \+10s \(upper\)\s+STALE\s+OVERCOMMITTED$/,
    );
    expect(out).toContain('cpu=5 memoryMb=4096');
    expect(out).toContain('cpu=1.6 (2.3) memoryMb=900 (1000)');
  });

  it('pools --json and table', async () => {
    expect(JSON.parse(await poolsOutput(db, { json: true }, T0))).toEqual([
      { name: 'db-connections', capacity: 20, granted: 5, free: 15 },
    ]);
    expect(await poolsOutput(db, {}, T0)).toMatch(/db-connections\s+20\s+5\s+15/);
  });

  it('pools set parses NAME=N and refuses bad input', async () => {
    expect(parsePoolAssignments(['license:matlab=2', 'x = 1.5'])).toEqual([
      { name: 'license:matlab', capacity: 2 },
      { name: 'x', capacity: 1.5 },
    ]);
    for (const bad of ['db', '=3', 'db=', 'db=-1', 'db=abc']) {
      expect(() => parsePoolAssignments([bad])).toThrow(expect.objectContaining({ name: 'UsageError' }));
    }
    await expect(poolsSetOutput(db, ['db-connections=4'], T0)).rejects.toMatchObject({
      name: 'CapacityBelowGrantedError',
    });
  });

  it('wires the commands into commander (through withDatabase)', async () => {
    const saved = { url: process.env.DATABASE_URL, schema: process.env.QM_SCHEMA };
    process.env.DATABASE_URL = testEnv.databaseUrl;
    process.env.QM_SCHEMA = db.schema;
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    try {
      const program = new Command().exitOverride();
      registerLedgerCommands(program);
      await program.parseAsync(['pools', 'set', 'gpu-licenses=3'], { from: 'user' });
      await program.parseAsync(['pools', '--json'], { from: 'user' });
      await program.parseAsync(['nodes', '--json'], { from: 'user' });
    } finally {
      spy.mockRestore();
      process.env.DATABASE_URL = saved.url;
      process.env.QM_SCHEMA = saved.schema;
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      if (saved.schema === undefined) delete process.env.QM_SCHEMA;
    }
    expect(chunks[0]).toBe('pool gpu-licenses: capacity 3 (granted 0, free 3)\n');
    expect(JSON.parse(chunks[1] as string).map((p: { name: string }) => p.name)).toEqual([
      'db-connections',
      'gpu-licenses',
    ]);
    expect(JSON.parse(chunks[2] as string)).toHaveLength(2);
  });
});
