/**
 * `npm run bench -- cycle-db`: the admission cycle end to end on real PostgreSQL (admission issue, point 6):
 * `runLedgerCycle`, what `scheduleCycle` and a release's inline hand-off run — begin (database clock + holders), expire lapsed leases, snapshot,
 * the pure cycle, one committing transaction (grants re-checked, wait notes, NOTIFY) — at 1,000 and 10,000
 * pending requests on 100 nodes, timed step by step. Steady state: between cycles 1 % of the running grants
 * end and 1 % new requests arrive, as under load. Quick cycles (decisions only) and full ones (every waiting
 * request's score and reason written: what the `queue` query and `qm queue` show) side by side. No Temporal:
 * the workflow's own task time is in the load benchmark. Uses DATABASE_URL when set, else embedded PostgreSQL.
 */
import { heartbeatNode, registerNode } from '../src/ledger/nodes';
import { markRunning, releaseReservation, requestReservation } from '../src/ledger/reservations';
import { runLedgerCycle } from '../src/admission/ledger-cycle';
import { DEFAULT_NODE_STALE_MS, SHRINK_OFFER_TTL_MS } from '../src/admission/constants';
import { DEFAULT_SCHEDULER_CONFIG } from '../src/scheduling/config';
import { markdownTable, percentile, writeBenchSection } from './report';
import { benchPostgres, dropSchema, freshSchema } from './postgres';
import type { Database } from '../src/ledger/db';

const NODES = 100;
const SIZES = [1_000, 10_000];
const CYCLES = 12;
const LEASE_MS = 3_600_000; // the bench's requests are renewed by nobody: an hour keeps them pending

const STEPS = ['begin', 'expire', 'snapshot', 'cycle', 'commit', 'total'] as const;
type Step = (typeof STEPS)[number];

/**
 * quick: decisions only, live rows read incrementally (as every cycle now reads them); quick-reread: the same
 * with the copy dropped before each cycle (every live row read, as before migration 011); full: wait notes too.
 */
type Mode = 'quick' | 'quick-reread' | 'full';
const MODES: readonly Mode[] = ['quick', 'quick-reread', 'full'];

interface SizeResult {
  pending: number;
  mode: Mode;
  times: Record<Step, number[]>;
  rowsRead: number[];
  granted: number;
  notes: number;
}

let seq = 0;
async function addRequests(db: Database, count: number): Promise<void> {
  const batch: Array<Promise<unknown>> = [];
  for (let k = 0; k < count; k++) {
    const id = seq++;
    batch.push(
      requestReservation(db, {
        key: `bench-${id}`,
        workflowId: `wf-${id}`,
        stageId: 's',
        priority: 1 + (id % 10),
        desired: { cpu: 1 + (id % 8), memoryMb: 1024 * (1 + (id % 4)) },
        minimum: { cpu: 1 + (id % 4), memoryMb: 1024 },
        expectedSeconds: 60 + (id % 600),
        leaseMs: LEASE_MS,
      }),
    );
    if (batch.length >= 16) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

/**
 * One cycle as `scheduleCycle` runs it (the same function), timed per step. The nodes heartbeat first (not
 * timed), as live ones do: a node silent for DEFAULT_NODE_STALE_MS takes no grants, and setting up 10,000
 * requests takes longer than that.
 */
async function timedCycle(
  db: Database,
  mode: Mode,
): Promise<{ ms: Record<Step, number>; granted: string[]; notes: number; rowsRead: number }> {
  for (let n = 0; n < NODES; n++) await heartbeatNode(db, `node-${n}`);
  if (mode === 'quick-reread') db.liveRows.reset();
  const c = await runLedgerCycle(db, {
    config: DEFAULT_SCHEDULER_CONFIG,
    leaseMs: LEASE_MS,
    staleAfterMs: DEFAULT_NODE_STALE_MS,
    shrinkOfferTtlMs: SHRINK_OFFER_TTL_MS,
    refresh: mode === 'full' ? 'always' : 'never',
    byScheduler: true,
  });
  return {
    ms: c.ms,
    granted: c.committed.granted.map((g) => g.key),
    notes: c.notes,
    rowsRead: c.snapshot.liveRead?.rowsRead ?? 0,
  };
}

async function measure(url: string, pending: number, mode: Mode): Promise<SizeResult> {
  const db = await freshSchema(url, 16);
  try {
    for (let n = 0; n < NODES; n++)
      await registerNode(db, { id: `node-${n}`, capacity: { cpu: 16 + (n % 3) * 8, memoryMb: 65536 } });
    await addRequests(db, pending);
    // Fill the cluster: the first cycles grant until nothing fits (those become the running grants).
    const running: string[] = [];
    for (let k = 0; k < 5; k++) {
      const { granted } = await timedCycle(db, 'quick');
      for (const key of granted) await markRunning(db, key, LEASE_MS);
      running.push(...granted);
      if (granted.length === 0) break;
    }
    await addRequests(db, running.length); // back to `pending` waiting
    const times = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
    const rowsRead: number[] = [];
    let granted = 0;
    let notes = 0;
    for (let c = 0; c < CYCLES; c++) {
      // The delta: 1 % of the running grants end, 1 % of the pending count arrives.
      const ending = running.splice(0, Math.max(1, Math.floor(running.length / 100)));
      for (const key of ending) await releaseReservation(db, key);
      await addRequests(db, Math.max(1, Math.floor(pending / 100)));
      const r = await timedCycle(db, mode);
      rowsRead.push(r.rowsRead);
      for (const key of r.granted) await markRunning(db, key, LEASE_MS);
      running.push(...r.granted);
      granted += r.granted.length;
      notes = r.notes;
      for (const s of STEPS) times[s].push(r.ms[s]);
    }
    return { pending, mode, times, rowsRead, granted, notes };
  } finally {
    await dropSchema(db);
  }
}

/** Runs the benchmark and writes its section. */
export async function run(_args: string[] = []): Promise<void> {
  const pg = await benchPostgres('cycle');
  const results: SizeResult[] = [];
  try {
    for (const pending of SIZES)
      for (const mode of MODES) {
        seq = 0;
        process.stderr.write(`[cycle-db] ${pending} pending, ${mode} cycles\n`);
        results.push(await measure(pg.url, pending, mode));
      }
  } finally {
    await pg.close();
  }
  const fmt = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0));
  const rows = results.map((r) => [
    r.pending.toLocaleString('en-US'),
    r.mode,
    ...STEPS.flatMap((s) => [fmt(percentile(r.times[s], 50)), fmt(percentile(r.times[s], 99))]),
    fmt(percentile(r.rowsRead, 50)),
    r.granted,
    r.notes.toLocaleString('en-US'),
  ]);
  const body = `The admission cycle end to end on real PostgreSQL (\`bench/cycle-db.ts\`): the steps of \`scheduleCycle\`
(begin: database clock and holders; expire lapsed leases; snapshot; the pure cycle; one committing transaction
with grants re-checked, wait notes and NOTIFY), ${CYCLES} cycles per row on ${NODES} nodes (16–32 cores, 64 GiB;
filled first), each after a delta of 1 % of the running grants ending and 1 % new requests. Quick cycles
write decisions only (back to back under load) and read only the live reservations written since the
previous cycle (\`LiveRows\`, migration 011); "quick-reread" is the same cycle with that copy dropped first, so
it reads every live row, as every cycle did before. Full cycles also write every waiting request's score and
reason (every ${'`'}QUEUE_REFRESH_MS${'`'} under load, for \`qm queue\`), so the next cycle reads all of those rows
again. Embedded PostgreSQL on the same 2 cores; no Temporal (the scheduler workflow's task time is in
"Admission at load"). Times in ms, p50 / p99; "reservation rows read" is what the snapshot fetched.

${markdownTable(
  [
    'pending',
    'cycle',
    ...STEPS.flatMap((s) => [`${s} p50`, `${s} p99`]),
    'reservation rows read p50',
    'granted',
    'wait notes written',
  ],
  rows,
)}`;
  writeBenchSection('cycle-db', 'Admission cycle on PostgreSQL (admission issue)', body);
}
