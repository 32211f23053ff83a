/**
 * The admission protocol's names and timings (pure, safe inside workflows). Every timing is chosen against
 * the others; the comments say which inequality each keeps.
 */

/** Default workflow id of the singleton `schedulerWorkflow` (one per namespace). */
export const DEFAULT_SCHEDULER_WORKFLOW_ID = 'quartermaster-scheduler';

/**
 * The task queue on which a workflow's waiting activities run: `<its task queue>-admission`. A wait is a
 * long, mostly idle activity; on a queue of their own (a worker with thousands of slots, which
 * `QuartermasterWorker` runs next to the shared one) thousands of waits never take the slots that stages and
 * the scheduler need.
 */
export function admissionTaskQueue(taskQueue: string): string {
  return `${taskQueue}-admission`;
}

/** Slots of the admission worker: waits are idle I/O, so many fit in one process. */
export const ADMISSION_WORKER_SLOTS = 10_000;

/** Default lease of a request (pending, granted or running), ms, on the database's clock. */
export const DEFAULT_LEASE_MS = 30_000;

/** How often a running stage renews its lease, ms (several renewals fit in a lease). */
export const LEASE_RENEW_EVERY_MS = 5_000;

/**
 * A running stage that could not renew its lease aborts its handler this long before the lease ends, ms
 * (fencing: a node cut off from the ledger never runs on capacity granted elsewhere).
 */
export const FENCE_MARGIN_MS = 5_000;

/**
 * How often a waiting request re-reads its row, renews its pending lease and heartbeats, ms, when no
 * notification came (the safety net under LISTEN/NOTIFY). Well under the lease.
 */
export const WAIT_RECHECK_MS = 5_000;

/** Heartbeat timeout of the waiting activity, ms: a dead waiter's retry starts within this. Under the lease. */
export const WAIT_HEARTBEAT_TIMEOUT_MS = 20_000;

/**
 * How long a granted stage may sit in its node's task queue before the workflow gives the grant back and
 * asks again elsewhere, ms. Shorter than the lease, so a grant never lapses while its stage waits to start.
 */
export const NODE_START_TIMEOUT_MS = 20_000;

/** Heartbeat timeout of `runStage`, ms: a node whose worker died is noticed within this. */
export const RUN_HEARTBEAT_TIMEOUT_MS = 15_000;

/**
 * A node silent longer than this is stale, ms: nothing new is granted there. Shorter than
 * {@link RUN_HEARTBEAT_TIMEOUT_MS}, so by the time a dead node's stage is retried the node gets nothing.
 */
export const DEFAULT_NODE_STALE_MS = 10_000;

/** The scheduler's tick when nothing wakes it, ms: lapsed leases are reclaimed within lease + this. */
export const SCHEDULER_TICK_MS = 5_000;

/**
 * The scheduler refreshes its ranked queue (the `queue` query, wait reasons, start estimates, shrink offers) at
 * most this often, ms; cycles in between only decide (a full queue in every cycle's result would bloat history).
 */
export const QUEUE_REFRESH_MS = 5_000;

/**
 * When nothing changed since the last refresh (no request, release, boost or grant: only time passed), the
 * queue is refreshed this often instead, ms: a quiet scheduler with 1,000 waiting requests wrote ~800 KiB of
 * history a minute refreshing an unchanged queue on every tick.
 */
export const QUIET_QUEUE_REFRESH_MS = 60_000;

/**
 * Cycles a release runs inline (see `handOff`) before it leaves the rest to the scheduler: each costs a
 * snapshot, and the releasing activity (its stage's completion) waits for them.
 */
export const INLINE_CYCLES_MAX = 3;

/**
 * How long the fast path waits for another process's cycle to decide a request that would fit, ms, when that
 * cycle holds the cycle lock (it runs again for the request's flag and announces its grants): a short wait in
 * the workflow task that saves the request a waiting activity and a workflow task.
 */
export const FAST_PATH_HOLDER_WAIT_MS = 250;

/**
 * Successor grants: the head of the queue may be granted behind a held reservation whose expected end is at
 * most this far ahead, ms (see `assignSuccessors`), so that its pickup — the waiter's activity completing, a
 * workflow task, the node's poll, together measured at 240–630 ms on a loaded dev server — overlaps the
 * predecessor's run instead of idling the capacity after it. About one pickup: longer ties a request to a node
 * that may free later than another. 0 disables successor grants.
 */
export const SUCCESSOR_HORIZON_MS = 1_000;

/** The largest successor horizon accepted, ms: an hour ahead of a stage's end is no longer "about one pickup". */
export const MAX_SUCCESSOR_HORIZON_MS = 3_600_000;

/**
 * A stage waiting at the gate for its predecessor re-checks its row (and heartbeats) this often, ms, when no
 * promotion is announced: the announcement (NOTIFY, on the predecessor's ending statement) opens the gate.
 */
export const SUCCESSOR_GATE_RECHECK_MS = 1_000;

/**
 * A stage waits at the gate at most this long, ms: a predecessor expected to end within the horizon that runs
 * this much longer is hung or badly mispredicted. The stage then gives its grant back (its record says it
 * never ran) and asks again, at no attempt's cost, instead of spending its own timeout behind another.
 */
export const SUCCESSOR_GATE_MAX_MS = 60_000;

/**
 * …and at most this share of its own run time limit (`runStage`'s start-to-close timeout, the stage's
 * `timeoutSeconds`), which the gate's wait counts against: a stage with a 10 s timeout gives up after 1 s.
 */
export const SUCCESSOR_GATE_MAX_SHARE = 0.1;

/** A requester that sees no cycle for this long signals (and so starts) the scheduler even if a wake is outstanding, ms. */
export const SCHEDULER_STALE_MS = 3 * SCHEDULER_TICK_MS;

/**
 * A waiting request tells its workflow why it waits at most this many times (the first reason, then changes),
 * so a wait costs a bounded number of history events however long it lasts.
 */
export const MAX_WAIT_REASON_UPDATES = 3;

/** …and no more often than this, ms. */
export const WAIT_REASON_MIN_INTERVAL_MS = 30_000;

/**
 * …and not before the wait has lasted this long, ms: each report is a signal and a workflow task, and under
 * load most waits are short (the ledger's wait note, shown by `qm queue`, has the reason meanwhile). Measured:
 * with 200 pipelines on a full node, reporting at once added a signal and a workflow task to nearly every one.
 */
export const WAIT_REASON_FIRST_AFTER_MS = 3_000;

/**
 * How long a shrink offer (graceful degradation) waits for the stage's answer before it is cleared and
 * counted as declined, in ms: three lease renewals, since renewals deliver offers.
 */
export const SHRINK_OFFER_TTL_MS = 3 * LEASE_RENEW_EVERY_MS;

/** How long a stage that declined (or ignored) a shrink offer is left alone before it is offered again, in ms. */
export const SHRINK_DECLINE_COOLDOWN_MS = 60_000;
