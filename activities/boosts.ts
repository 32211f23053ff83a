import type { BoostCapability } from '../src/boosts/capability';
import { verifyBoostCapability } from '../src/boosts/capability-mac';
import { addBoost } from '../src/ledger/boosts';
import type { LazyDatabase } from '../src/ledger/lazy';

/**
 * `verifyBoostCapability` (a local activity, on a worker that holds `QM_ADMIN_TOKEN`): whether a boost
 * capability's MAC is right. Its result — recorded in history as a marker — is only `{ valid }`; the secret
 * never leaves this process and is never logged. `valid` is false when no secret is configured.
 */
export async function verifyBoostCapabilityActivity(
  capability: BoostCapability,
): Promise<{ valid: boolean }> {
  const secret = process.env.QM_ADMIN_TOKEN;
  return { valid: secret !== undefined && secret !== '' && verifyBoostCapability(secret, capability) };
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
 * Boost activities: `recordBoost` (writes the boost and its audit row to the ledger
 * and wakes the scheduler so the queue is re-ranked).
 */
export function createBoostActivities(ledger: LazyDatabase, wake: () => Promise<void>) {
  return {
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
