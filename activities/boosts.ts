import { createHash } from 'node:crypto';
import { addBoost } from '../src/ledger/boosts';
import type { LazyDatabase } from '../src/ledger/lazy';

/** What a workflow needs to validate boosts in its update validator. */
export interface BoostPolicy {
  /** SHA-256 (hex) of the workers' `QM_ADMIN_TOKEN`, or null when none is configured. */
  adminTokenSha256: string | null;
}

/** Input of `recordBoost`. */
export interface RecordBoostInput {
  workflowId: string;
  amount: number;
  ttlSeconds: number;
  reason: string;
  actor: string;
}

/**
 * Boost activities: `boostPolicy` (a local activity: the admin token's hash, read from the worker's
 * environment, never the token itself) and `recordBoost` (writes the boost and its audit row to the ledger
 * and wakes the scheduler so the queue is re-ranked).
 */
export function createBoostActivities(ledger: LazyDatabase, wake: () => Promise<void>) {
  return {
    async boostPolicy(): Promise<BoostPolicy> {
      const token = process.env.QM_ADMIN_TOKEN;
      return { adminTokenSha256: token ? createHash('sha256').update(token, 'utf8').digest('hex') : null };
    },
    async recordBoost(input: RecordBoostInput): Promise<{ id: number; expiresAt: string }> {
      const now = new Date();
      const boost = await addBoost(
        await ledger.get(),
        {
          workflowId: input.workflowId,
          amount: input.amount,
          expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
          reason: input.reason,
          actor: input.actor,
        },
        now,
      );
      await wake();
      return { id: boost.id, expiresAt: boost.expiresAt.toISOString() };
    },
  };
}
