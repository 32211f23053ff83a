/** Names shared by the scheduler's workflows and activities (pure, safe inside workflows). */

/** Default workflow id of the singleton `schedulerWorkflow` (one per namespace). */
export const DEFAULT_SCHEDULER_WORKFLOW_ID = 'quartermaster-scheduler';

/** Default lease of a grant, in ms: a stage renews it by heartbeat well before; a dead worker's lapses. */
export const DEFAULT_LEASE_MS = 30_000;

/** How often a running stage renews its lease, in ms. */
export const LEASE_RENEW_EVERY_MS = 5_000;

/** How long a waiting stage waits for its decision before re-checking the ledger itself, in ms. */
export const DECISION_RECHECK_MS = 15_000;

/** The scheduler's tick when nothing wakes it, in ms (leases expire, forecasts move). */
export const SCHEDULER_TICK_MS = 5_000;

/**
 * How long a shrink offer (graceful degradation) waits for the stage's answer before it is cleared and
 * counted as declined, in ms: three lease renewals, since renewals deliver offers.
 */
export const SHRINK_OFFER_TTL_MS = 3 * LEASE_RENEW_EVERY_MS;

/** How long a stage that declined (or ignored) a shrink offer is left alone before it is offered again, in ms. */
export const SHRINK_DECLINE_COOLDOWN_MS = 60_000;
