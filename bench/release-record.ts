/**
 * `npm run bench -- release [--root DIR] [--compare DIR] [--n 500] [--outcome completed|failed]`: what recording an attempt costs the release. Times
 * `releaseReservation` alone (one client, sequential) over `n` running reservations — each first requested,
 * granted and started, untimed — after 100 warm-up releases, against its own embedded PostgreSQL (or
 * DATABASE_URL). Every request names the same definition, stage and handler and is released `completed`, so
 * each release also refreshes that key's learned run time from its last 50 runs (the most a release does;
 * `--outcome failed` records without that refresh).
 * `--root` loads the ledger from another checkout; `--compare DIR` loads a second one (e.g. the branch before
 * execution data) and alternates releases between the two on the same server, so both see the same load.
 * Prints p50/p90/p99 in ms. With `--compare`, both outcomes are measured (unless `--outcome` names one) and the
 * comparison is written to BENCHMARKS.md ("Recording executions").
 */
import path from 'node:path';
import { markdownTable, percentile, writeBenchSection } from './report';
import { benchPostgres, benchSchema } from './postgres';
import type { Database, openDatabase } from '../src/ledger/db';
import type { registerNode } from '../src/ledger/nodes';
import type { markRunning, releaseReservation, requestReservation } from '../src/ledger/reservations';
import type { commitDecisions } from '../src/ledger/commit';
import type { startEmbeddedPostgres } from '../src/ledger/embedded';

type Ledger = {
  openDatabase: typeof openDatabase;
  registerNode: typeof registerNode;
  requestReservation: typeof requestReservation;
  releaseReservation: typeof releaseReservation;
  markRunning: typeof markRunning;
  commitDecisions: typeof commitDecisions;
  startEmbeddedPostgres: typeof startEmbeddedPostgres;
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
  };
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

interface Side {
  label: string;
  l: Ledger;
  db: Database;
  times: number[];
}

async function prepare(side: Side, i: number): Promise<string> {
  const { l, db } = side;
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
  const c = await l.commitDecisions(
    db,
    [{ key, nodeId: 'n1', granted: { cpu: 1 + (i % 2), memoryMb: 512 }, leaseMs: 60_000 }],
    undefined,
    // The node registers once and never heartbeats: never stale during the run.
    { staleAfterMs: 1e12 },
  );
  if (c.granted.length !== 1) throw new Error(`grant refused: ${JSON.stringify(c.rejected)}`);
  await l.markRunning(db, key, 60_000);
  return key;
}

/** Runs the benchmark (see the module comment). */
export async function run(args: string[]): Promise<void> {
  const roots = [option(args, '--root') ?? path.join(__dirname, '..'), option(args, '--compare')]
    .filter((r): r is string => r !== undefined)
    .map((r) => path.resolve(r));
  const n = Number(option(args, '--n') ?? 500);
  // `failed` skips the learned-run-time refresh (only completed runs are learned from).
  const asked = option(args, '--outcome');
  const outcomes: Array<'completed' | 'failed'> =
    asked === 'failed'
      ? ['failed']
      : asked === 'completed' || roots.length < 2
        ? ['completed']
        : ['completed', 'failed'];
  const rows: Array<Array<string | number>> = [];
  const ledgers = roots.map(load);
  const first = ledgers[0] as Ledger;
  const pg = await benchPostgres('release', first.startEmbeddedPostgres);
  const url = pg.url;
  try {
    for (const outcome of outcomes) {
      const sides: Side[] = [];
      try {
        for (const [i, l] of ledgers.entries()) {
          const db = await l.openDatabase({
            connectionString: url,
            schema: benchSchema(),
            maxConnections: 2,
          });
          sides.push({ label: roots[i] as string, l, db, times: [] });
          await l.registerNode(db, { id: 'n1', capacity: { cpu: 1_000_000, memoryMb: 1e9 } }, new Date());
        }
        // With two checkouts, releases alternate (A B, then B A, …) on one server, so load that comes and goes
        // falls on both alike.
        for (let i = 0; i < n + 100; i++) {
          const order = i % 2 === 0 ? sides : [...sides].reverse();
          for (const side of order) {
            const key = await prepare(side, i);
            const t0 = performance.now();
            await side.l.releaseReservation(side.db, key, undefined, { outcome });
            const dt = performance.now() - t0;
            if (i >= 100) side.times.push(dt);
          }
        }
        for (const side of sides) {
          const ms = (p: number): string => percentile(side.times, p).toFixed(3);
          process.stdout.write(
            `release ${outcome} (${side.label}): n=${side.times.length} p50 ${ms(50)} ms, p90 ${ms(90)} ms, p99 ${ms(99)} ms, max ${ms(100)} ms\n`,
          );
          rows.push([
            outcome,
            side === sides[0] ? 'this checkout' : `before (${path.basename(path.dirname(side.label))})`,
            side.times.length,
            ms(50),
            ms(90),
            ms(99),
          ]);
        }
      } finally {
        for (const side of sides) {
          await side.db.pool.query(`DROP SCHEMA IF EXISTS ${side.db.schema} CASCADE`).catch(() => undefined);
          await side.db.close();
        }
      }
    }
  } finally {
    await pg.close();
  }
  if (roots.length < 2) return;
  writeBenchSection(
    'release',
    'Recording executions: what it adds to a release (execution-data issue)',
    `\`releaseReservation\` alone, one client, sequential, ${n} releases per row after 100 warm-up ones, embedded
PostgreSQL on this 2-core machine (\`bench/release-record.ts --compare\`): this checkout (the release ends the
reservation, writes its execution record and, for a completed run, refreshes its stage key's learned run time
from its last 50 runs, in one statement) against a checkout from before execution data (lock + update in a
transaction), releases alternating between the two on one server so both see the same load. ms.

${markdownTable(['outcome', 'ledger', 'n', 'p50', 'p90', 'p99'], rows)}`,
  );
}
