import type { Database } from './db';
import { inTransaction } from './db';
import { InvalidLedgerArgumentError, translateDbError } from './errors';
import { checkId, checkQuantity } from './vectors';

/** An importance boost on a workflow: adds `amount` to its importance until `expiresAt`. */
export interface Boost {
  /** Boost id. */
  id: number;
  /** The boosted workflow. */
  workflowId: string;
  /** Importance added (≥ 0). */
  amount: number;
  /** Why (for the audit). */
  reason: string;
  /** Who (for the audit). */
  actor: string;
  /** When it was added. */
  createdAt: Date;
  /** When it stops counting. */
  expiresAt: Date;
}

/** Input of {@link addBoost}. */
export interface AddBoostInput {
  /** The workflow to boost. */
  workflowId: string;
  /** Importance to add; finite, ≥ 0. */
  amount: number;
  /** When it stops counting; after `now`. */
  expiresAt: Date;
  /** Why. */
  reason: string;
  /** Who asked (user name, `cli`, …). */
  actor: string;
}

/** One audit row: every boost added and every boost expired leaves one. */
export interface BoostAuditEntry {
  /** The boost. */
  boostId: number;
  /** What happened. */
  action: 'added' | 'expired';
  /** The boosted workflow. */
  workflowId: string;
  /** The boost's amount. */
  amount: number;
  /** The boost's reason. */
  reason: string;
  /** The boost's actor. */
  actor: string;
  /** When it happened. */
  at: Date;
}

/** A `qm_boosts` row as pg returns it. */
export interface BoostRow {
  id: string;
  workflow_id: string;
  amount: number;
  reason: string;
  actor: string;
  created_at: Date;
  expires_at: Date;
}

/** Columns of a boost, for SELECTs elsewhere in the ledger. */
export const BOOST_SELECT = 'id, workflow_id, amount, reason, actor, created_at, expires_at';

/** Maps a boost row (bigserial arrives as a string) to a {@link Boost}. */
export function toBoost(row: BoostRow): Boost {
  return {
    id: Number(row.id),
    workflowId: row.workflow_id,
    amount: row.amount,
    reason: row.reason,
    actor: row.actor,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Adds a boost and its `added` audit row in one transaction.
 * @throws InvalidQuantityError for a negative or non-finite amount; InvalidLedgerArgumentError for an empty
 *   workflow id, reason or actor, or an expiry not after `now`; DatabaseUnavailableError.
 */
export async function addBoost(db: Database, input: AddBoostInput, now: Date): Promise<Boost> {
  checkId('boost.workflowId', input.workflowId);
  checkQuantity('boost.amount', input.amount);
  checkId('boost.reason', input.reason);
  checkId('boost.actor', input.actor);
  if (!(input.expiresAt instanceof Date) || !(input.expiresAt.getTime() > now.getTime())) {
    throw new InvalidLedgerArgumentError(
      'boost.expiresAt',
      input.expiresAt,
      `a date after ${now.toISOString()}`,
    );
  }
  return inTransaction(db, 'add boost', async (client) => {
    const { rows } = await client.query<BoostRow>(
      `INSERT INTO qm_boosts (workflow_id, amount, reason, actor, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${BOOST_SELECT}`,
      [input.workflowId, input.amount, input.reason, input.actor, now, input.expiresAt],
    );
    const boost = toBoost(rows[0] as BoostRow);
    await client.query(
      `INSERT INTO qm_boost_audit (boost_id, action, workflow_id, amount, reason, actor, at)
       VALUES ($1, 'added', $2, $3, $4, $5, $6)`,
      [boost.id, boost.workflowId, boost.amount, boost.reason, boost.actor, now],
    );
    return boost;
  });
}

/**
 * Boosts counting at `now` (not yet past their expiry), oldest first; only `workflowId`'s when given.
 * @throws DatabaseUnavailableError.
 */
export async function listActiveBoosts(db: Database, now: Date, workflowId?: string): Promise<Boost[]> {
  try {
    const { rows } = await db.pool.query<BoostRow>(
      `SELECT ${BOOST_SELECT} FROM qm_boosts
        WHERE expired_at IS NULL AND expires_at > $1 AND ($2::text IS NULL OR workflow_id = $2)
        ORDER BY created_at, id`,
      [now, workflowId ?? null],
    );
    return rows.map(toBoost);
  } catch (err) {
    throw translateDbError(err, 'list boosts');
  }
}

/**
 * Marks every boost past its expiry at `now` as expired, writing one `expired` audit row each, in one
 * statement. Idempotent: a boost expires once.
 * @returns the ids expired, ascending.
 * @throws DatabaseUnavailableError.
 */
export async function expireBoosts(db: Database, now: Date): Promise<number[]> {
  try {
    const { rows } = await db.pool.query<{ boost_id: string }>(
      `WITH gone AS (
         UPDATE qm_boosts SET expired_at = $1
          WHERE expired_at IS NULL AND expires_at <= $1
         RETURNING id, workflow_id, amount, reason, actor
       )
       INSERT INTO qm_boost_audit (boost_id, action, workflow_id, amount, reason, actor, at)
       SELECT id, 'expired', workflow_id, amount, reason, actor, $1 FROM gone
       RETURNING boost_id`,
      [now],
    );
    return rows.map((r) => Number(r.boost_id)).sort((a, b) => a - b);
  } catch (err) {
    throw translateDbError(err, 'expire boosts');
  }
}

/**
 * The audit trail, oldest first; only `workflowId`'s when given.
 * @throws DatabaseUnavailableError.
 */
export async function listBoostAudit(db: Database, workflowId?: string): Promise<BoostAuditEntry[]> {
  try {
    const { rows } = await db.pool.query<{
      boost_id: string;
      action: 'added' | 'expired';
      workflow_id: string;
      amount: number;
      reason: string;
      actor: string;
      at: Date;
    }>(
      `SELECT boost_id, action, workflow_id, amount, reason, actor, at FROM qm_boost_audit
        WHERE $1::text IS NULL OR workflow_id = $1 ORDER BY id`,
      [workflowId ?? null],
    );
    return rows.map((r) => ({
      boostId: Number(r.boost_id),
      action: r.action,
      workflowId: r.workflow_id,
      amount: r.amount,
      reason: r.reason,
      actor: r.actor,
      at: r.at,
    }));
  } catch (err) {
    throw translateDbError(err, 'list boost audit');
  }
}
