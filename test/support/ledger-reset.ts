import type { Database } from '../../src/ledger/db';
import { checkInvariant } from '../../src/ledger/invariant';
import { releaseReservation } from '../../src/ledger/reservations';
import { expireShrinkOffers } from '../../src/ledger/shrink';

/**
 * Between two ledger tests: asserts the books are sound (no invariant violation), then ends every live
 * reservation and withdraws the offers they leave, so the next test starts on empty nodes.
 */
export async function expectSoundThenEmpty(db: Database): Promise<void> {
  expect(await checkInvariant(db)).toEqual([]);
  const { rows } = await db.pool.query<{ key: string }>(
    `SELECT key FROM qm_reservations WHERE state IN ('pending', 'granted', 'running')`,
  );
  for (const r of rows) await releaseReservation(db, r.key);
  // A released holder's shrink offer is withdrawn by the next cycle's expiry step.
  await expireShrinkOffers(db, new Date(), { maxAgeMs: 60_000 });
}
