/**
 * The ledger's invariant soak, shared by the integration test (short) and `npm run bench -- ledger` (32
 * clients × 60 s): N clients do random request / commit / start / renew / release / expire / cancel against
 * three nodes and a custom pool while a checker runs the invariant query every 100 ms.
 */
import type { Database } from '../src/ledger/db';
import { commitDecisions } from '../src/ledger/commit';
import { checkInvariant, type InvariantViolation } from '../src/ledger/invariant';
import { registerNode } from '../src/ledger/nodes';
import { setPoolCapacity } from '../src/ledger/pools';
import {
  cancelWorkflowReservations,
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
} from '../src/ledger/reservations';
import { snapshot } from '../src/ledger/snapshot';
import type { LockStrategy, ResourceVector } from '../src/ledger/types';
import { expireLapsed } from '../src/ledger/admission';

/** Node ids the soak uses. */
export const SOAK_NODES = ['soak-a', 'soak-b', 'soak-c'] as const;
/** The custom pool the soak uses. */
export const SOAK_POOL = 'soak-licenses';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Concurrent clients. */
  clients: number;
  /** How long they run, in milliseconds. */
  durationMs: number;
  /** Concurrency control of commits. @default the ledger default */
  strategy?: LockStrategy;
  /** Checker period in milliseconds. @default 100 */
  checkIntervalMs?: number;
}

/** What a soak did and found. */
export interface SoakResult {
  /** Ledger operations completed (all kinds, failures included). */
  ops: number;
  /** Operations per kind. */
  opsByKind: Record<string, number>;
  /** Expected typed failures per error name (LeaseExpiredError, IllegalTransitionError, …). */
  expectedErrors: Record<string, number>;
  /** Unexpected failures (should be empty). */
  unexpectedErrors: string[];
  /** Invariant checks run while the clients ran. */
  checks: number;
  /** Every violation seen by the checker or the final check. */
  violations: InvariantViolation[];
  /** Grants the clients were told were written. */
  grantsAccepted: number;
  /** Grants refused by the re-check. */
  grantsRejected: number;
  /** Empty when the final books balance; otherwise what does not. */
  booksProblems: string[];
}

// LedgerContentionError is retryable: a real caller retries it later.
const EXPECTED = new Set(['LeaseExpiredError', 'IllegalTransitionError', 'LedgerContentionError']);

function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

/**
 * Registers the soak's three nodes (cpu 8, memoryMb 16384, gpu 1 each) and its pool (6 units) at `now`.
 * @throws whatever the ledger throws.
 */
export async function setupSoakLedger(db: Database, now: Date): Promise<void> {
  for (const id of SOAK_NODES)
    await registerNode(db, { id, capacity: { cpu: 8, memoryMb: 16384, gpu: 1 } }, now);
  await setPoolCapacity(db, SOAK_POOL, 6, now);
}

function randomDesired(): ResourceVector {
  const v: ResourceVector = {
    cpu: 1 + Math.floor(Math.random() * 4),
    memoryMb: 512 * (1 + Math.floor(Math.random() * 8)),
  };
  if (Math.random() < 0.15) v.gpu = 1;
  if (Math.random() < 0.4) v[SOAK_POOL] = 1 + Math.floor(Math.random() * 2);
  return v;
}

/**
 * Runs the soak against a ledger prepared by {@link setupSoakLedger}. Clients keep nodes fresh with
 * heartbeats (re-registration) so grants are possible throughout. At the end every active reservation is
 * released and the books are checked: each accepted grant is exactly one row that was granted, the granted
 * totals match, and with everything released nothing is held.
 * @throws only on a setup failure; operation failures are counted in the result.
 */
export async function runSoak(db: Database, options: SoakOptions): Promise<SoakResult> {
  const checkIntervalMs = options.checkIntervalMs ?? 100;
  const deadline = Date.now() + options.durationMs;
  const pending: string[] = [];
  const result: SoakResult = {
    ops: 0,
    opsByKind: {},
    expectedErrors: {},
    unexpectedErrors: [],
    checks: 0,
    violations: [],
    grantsAccepted: 0,
    grantsRejected: 0,
    booksProblems: [],
  };
  const acceptedTotals: ResourceVector = {};
  let sequence = 0;

  const count = (kind: string): void => {
    result.ops++;
    result.opsByKind[kind] = (result.opsByKind[kind] ?? 0) + 1;
  };
  const fail = (kind: string, err: unknown): void => {
    const name = (err as { name?: string } | null)?.name ?? 'unknown';
    if (EXPECTED.has(name)) result.expectedErrors[name] = (result.expectedErrors[name] ?? 0) + 1;
    else if (result.unexpectedErrors.length < 20)
      result.unexpectedErrors.push(`${kind}: ${name}: ${(err as Error).message}`);
  };

  const client = async (c: number): Promise<void> => {
    const held: string[] = [];
    while (Date.now() < deadline) {
      const roll = Math.random();
      const kind =
        roll < 0.25
          ? 'request'
          : roll < 0.5
            ? 'commit'
            : roll < 0.6
              ? 'start'
              : roll < 0.72
                ? 'renew'
                : roll < 0.88
                  ? 'release'
                  : roll < 0.93
                    ? 'expire'
                    : roll < 0.96
                      ? 'cancel'
                      : 'heartbeat';
      try {
        const now = new Date();
        if (kind === 'request') {
          const key = `soak-${c}-${sequence++}`;
          const desired = randomDesired();
          await requestReservation(
            db,
            {
              key,
              workflowId: `soak-wf-${c}-${sequence % 7}`,
              stageId: 'stage',
              priority: 1 + (sequence % 10),
              desired,
            },
            now,
          );
          pending.push(key);
        } else if (kind === 'commit') {
          // Several clients may pick the same pending key: the re-check must refuse all but one.
          const keys = [pick(pending), pick(pending)].filter((k): k is string => k !== undefined);
          const decisions = keys.map((key) => ({
            key,
            nodeId: pick(SOAK_NODES) as string,
            granted: randomDesired(),
            leaseMs: 200 + Math.floor(Math.random() * 800),
          }));
          const out = await commitDecisions(db, decisions, now, { strategy: options.strategy });
          result.grantsAccepted += out.granted.length;
          result.grantsRejected += out.rejected.length;
          for (const g of out.granted) {
            held.push(g.key);
            const i = pending.indexOf(g.key);
            if (i >= 0) pending.splice(i, 1);
            for (const [r, v] of Object.entries(g.granted)) acceptedTotals[r] = (acceptedTotals[r] ?? 0) + v;
          }
        } else if (kind === 'start' || kind === 'renew') {
          const key = pick(held);
          if (key === undefined) continue;
          const leaseMs = 200 + Math.floor(Math.random() * 800);
          await (kind === 'start' ? markRunning(db, key, leaseMs, now) : renewLease(db, key, leaseMs, now));
        } else if (kind === 'release') {
          const key = pick(held);
          if (key === undefined) continue;
          held.splice(held.indexOf(key), 1);
          await releaseReservation(db, key, now);
        } else if (kind === 'expire') {
          await expireLapsed(db, now);
        } else if (kind === 'cancel') {
          await cancelWorkflowReservations(db, `soak-wf-${c}-${Math.floor(Math.random() * 7)}`, now);
        } else {
          const id = pick(SOAK_NODES) as string;
          await registerNode(db, { id, capacity: { cpu: 8, memoryMb: 16384, gpu: 1 } }, now);
        }
        count(kind);
      } catch (err) {
        count(kind);
        fail(kind, err);
      }
    }
  };

  let checking = true;
  const checker = (async () => {
    while (checking) {
      try {
        const violations = await checkInvariant(db);
        result.checks++;
        result.violations.push(...violations);
      } catch (err) {
        fail('check', err);
      }
      await new Promise((resolve) => setTimeout(resolve, checkIntervalMs));
    }
  })();
  await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  checking = false;
  await checker;
  result.violations.push(...(await checkInvariant(db)));

  // Books: every accepted grant is one row that was granted; totals match; release all, nothing held.
  const { rows } = await db.pool.query<{ n: string; totals: Record<string, number> | null }>(
    `SELECT count(*) AS n,
            (SELECT jsonb_object_agg(k, s) FROM (
               SELECT e.key AS k, sum(e.value::float8) AS s
                 FROM qm_reservations r CROSS JOIN LATERAL jsonb_each_text(r.granted) e
                WHERE r.granted_at IS NOT NULL GROUP BY e.key) t) AS totals
       FROM qm_reservations WHERE granted_at IS NOT NULL`,
  );
  const grantedRows = Number(rows[0]?.n ?? 0);
  if (grantedRows !== result.grantsAccepted) {
    result.booksProblems.push(
      `${result.grantsAccepted} grants accepted but ${grantedRows} rows were granted`,
    );
  }
  const totals = rows[0]?.totals ?? {};
  for (const r of new Set([...Object.keys(totals), ...Object.keys(acceptedTotals)])) {
    if (Math.abs((totals[r] ?? 0) - (acceptedTotals[r] ?? 0)) > 1e-6) {
      result.booksProblems.push(`${r}: accepted ${acceptedTotals[r] ?? 0}, rows hold ${totals[r] ?? 0}`);
    }
  }
  const end = new Date();
  const before = await snapshot(db, end);
  for (const r of before.active) await releaseReservation(db, r.key, end);
  const after = await snapshot(db, end);
  for (const n of after.nodes) {
    for (const [r, v] of Object.entries(n.granted))
      if (v !== 0) result.booksProblems.push(`node ${n.id} still holds ${r}=${v}`);
  }
  for (const p of after.pools)
    if (p.granted !== 0) result.booksProblems.push(`pool ${p.name} still holds ${p.granted}`);
  return result;
}
