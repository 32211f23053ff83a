/**
 * `npm run bench -- release [--root DIR] [--n 500] [--outcome completed|failed]`: what recording an attempt costs the release. Times
 * `releaseReservation` alone (one client, sequential) over `n` running reservations — each first requested,
 * granted and started, untimed — after 100 warm-up releases, against its own embedded PostgreSQL (or
 * DATABASE_URL). Every request names the same definition, stage and handler and is released `completed`, so
 * each release also refreshes that key's learned run time from its last 50 runs (the most a release does;
 * `--outcome failed` records without that refresh).
 * `--root` loads the ledger from another checkout (e.g. one of the branch before execution data): the same
 * script then measures both sides. Prints p50/p90/p99 in ms; writes nothing.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { percentile } from './report';
import type { openDatabase } from '../src/ledger/db';
import type { registerNode } from '../src/ledger/nodes';
import type { markRunning, releaseReservation, requestReservation } from '../src/ledger/reservations';
import type { commitDecisions } from '../src/ledger/commit';
import type { startEmbeddedPostgres } from '../src/ledger/embedded';
import type { freePort } from '../src/services/free-port';

type Ledger = {
  openDatabase: typeof openDatabase;
  registerNode: typeof registerNode;
  requestReservation: typeof requestReservation;
  releaseReservation: typeof releaseReservation;
  markRunning: typeof markRunning;
  commitDecisions: typeof commitDecisions;
  startEmbeddedPostgres: typeof startEmbeddedPostgres;
  freePort: typeof freePort;
};

function load(root: string): Ledger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a checkout chosen at run time
  const req = (p: string): Record<string, unknown> => require(path.join(root, p)) as Record<string, unknown>;
  return {
    ...(req('src/ledger/db') as Pick<Ledger, 'openDatabase'>),
    ...(req('src/ledger/nodes') as Pick<Ledger, 'registerNode'>),
    ...(req('src/ledger/reservations') as Pick<
      Ledger,
      'requestReservation' | 'releaseReservation' | 'markRunning'
    >),
    ...(req('src/ledger/commit') as Pick<Ledger, 'commitDecisions'>),
    ...(req('src/ledger/embedded') as Pick<Ledger, 'startEmbeddedPostgres'>),
    ...(req('src/services/free-port') as Pick<Ledger, 'freePort'>),
  };
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/** Runs the benchmark (see the module comment). */
export async function run(args: string[]): Promise<void> {
  const root = path.resolve(option(args, '--root') ?? path.join(__dirname, '..'));
  const n = Number(option(args, '--n') ?? 500);
  // `failed` skips the learned-run-time refresh (only completed runs are learned from).
  const outcome = option(args, '--outcome') === 'failed' ? 'failed' : 'completed';
  const l = load(root);
  let url = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  let tmp: string | undefined;
  if (url === undefined) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-bench-release-'));
    chmodSync(tmp, 0o755);
    const pg = await l.startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await l.freePort() });
    url = pg.connectionString;
    stop = () => pg.stop();
  }
  const db = await l.openDatabase({
    connectionString: url,
    schema: `qm_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    maxConnections: 2,
  });
  try {
    await l.registerNode(db, { id: 'n1', capacity: { cpu: 1_000_000, memoryMb: 1e9 } }, new Date());
    const times: number[] = [];
    for (let i = 0; i < n + 100; i++) {
      const key = `bench-${i}/run/work/1`;
      await l.requestReservation(db, {
        key,
        workflowId: `bench-${i}`,
        runId: 'run',
        stageId: 'work',
        priority: 5,
        desired: { cpu: 2, memoryMb: 512 },
        minimum: { cpu: 1, memoryMb: 512 },
        // Ignored by a ledger without execution data.
        ...({ definitionName: 'bench', handler: 'qm.echo', attempt: 1 } as object),
      });
      const c = await l.commitDecisions(db, [
        { key, nodeId: 'n1', granted: { cpu: 1 + (i % 2), memoryMb: 512 }, leaseMs: 60_000 },
      ]);
      if (c.granted.length !== 1) throw new Error(`grant refused: ${JSON.stringify(c.rejected)}`);
      await l.markRunning(db, key, 60_000);
      const t0 = performance.now();
      await l.releaseReservation(db, key, undefined, { outcome });
      const dt = performance.now() - t0;
      if (i >= 100) times.push(dt);
    }
    const ms = (p: number): string => percentile(times, p).toFixed(3);
    process.stdout.write(
      `release ${outcome} (${root}): n=${times.length} p50 ${ms(50)} ms, p90 ${ms(90)} ms, p99 ${ms(99)} ms, max ${ms(100)} ms\n`,
    );
  } finally {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
    await db.close();
    await stop?.();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}
