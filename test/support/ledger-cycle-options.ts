import { SHRINK_OFFER_TTL_MS } from '../../src/admission/constants';
import type { LedgerCycleOptions } from '../../src/admission/ledger-cycle';
import { DEFAULT_SCHEDULER_CONFIG } from '../../src/scheduling/config';

/**
 * A ledger cycle as a release runs it inline in the tests: default scoring, 60 s leases, nodes stale only after
 * an hour (tests register nodes once and never heartbeat), no wait notes.
 */
export const INLINE_CYCLE: LedgerCycleOptions = {
  config: DEFAULT_SCHEDULER_CONFIG,
  leaseMs: 60_000,
  staleAfterMs: 3_600_000,
  shrinkOfferTtlMs: SHRINK_OFFER_TTL_MS,
  refresh: 'never',
  byScheduler: false,
};
