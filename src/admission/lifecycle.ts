/**
 * The admission lifecycle of one stage attempt's request: the one state machine that the ledger enforces
 * and that workflows, activities and the simulator drive.
 *
 * ```
 *            request (lease)          grant (cycle or fast path)       start (runStage on the node)
 *   ─────▶ pending ───────────────────────▶ granted ──────────────────────▶ running
 *            │  ▲ renew (waiter alive)        │  ▲ renew (taken up)            │  ▲ renew (heartbeat)
 *            │  └──────                       │  └──────                       │  └──────
 *            ├─ release ─▶ released           ├─ release ─▶ released           ├─ release ─▶ released
 *            ├─ cancel ──▶ cancelled          ├─ cancel ──▶ cancelled          ├─ cancel ──▶ cancelled
 *            └─ expire ──▶ expired            └─ expire ──▶ expired            └─ expire ──▶ expired
 * ```
 *
 * Every non-terminal state carries a lease computed on the database's clock:
 * - `pending`: renewed by the requester's waiting activity while it waits; a lapsed one means the
 *   requester is gone (pipeline terminated, reset or timed out; worker dead and not retried), so the next
 *   cycle expires it: it never holds capacity for nobody and never triggers a shrink offer.
 * - `granted`: renewed by the waiter when it takes the grant up, so the stage has a whole lease to start
 *   on its node (the node's `runStage` schedule-to-start timeout is shorter than the lease).
 * - `running`: renewed by `runStage` while the handler runs; a node that cannot renew aborts the handler
 *   before the lease ends (fencing), so its capacity is never used twice.
 *
 * A request that ended before its stage ran (`expired`, `released` by a failed hand-over, `cancelled`
 * while the workflow lives on) means "ask again with a fresh key" ({@link nextRequestKey}); it never fails
 * the stage and costs no attempt. Only the stage's own handler ends a stage. Capacity returns only once
 * the handler has stopped: cancellation waits for `runStage` to finish before releasing.
 */
import { IllegalTransitionError } from '../ledger/errors';
import type { ReservationState } from '../ledger/types';

/** Something that happens to a reservation. `renew` keeps the state; the others may move it. */
export type ReservationEvent = 'grant' | 'start' | 'renew' | 'release' | 'expire' | 'cancel';

/** The states in which a reservation holds a lease (and, except `pending`, capacity). */
export const LIVE_STATES: readonly ReservationState[] = ['pending', 'granted', 'running'];

/**
 * The reservation state machine (see the module comment). Retries of a finishing event on a finished
 * reservation are no-ops (release, cancel and expire are idempotent), so an activity retried after it
 * released does not fail. Anything absent is illegal.
 */
export const TRANSITIONS: Readonly<
  Record<ReservationState, Readonly<Partial<Record<ReservationEvent, ReservationState>>>>
> = {
  // A pending request holds nothing; releasing it withdraws it; its lease lapses when its waiter is gone.
  pending: {
    grant: 'granted',
    renew: 'pending',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  granted: {
    start: 'running',
    renew: 'granted',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  // `start` again is an activity retry after it already started.
  running: {
    start: 'running',
    renew: 'running',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  released: { release: 'released', cancel: 'released', expire: 'released' },
  // Capacity already came back; a late release or cancel changes nothing.
  expired: { release: 'expired', cancel: 'expired', expire: 'expired' },
  cancelled: { release: 'cancelled', cancel: 'cancelled', expire: 'cancelled' },
};

/**
 * The state after `event` in state `from` (pure).
 * @throws IllegalTransitionError when the table has no such move (e.g. `grant` on a running reservation).
 */
export function transition(from: ReservationState, event: ReservationEvent, key?: string): ReservationState {
  const to = TRANSITIONS[from][event];
  if (to === undefined) throw new IllegalTransitionError(from, event, key);
  return to;
}

/** True when the move exists; never throws. */
export function canTransition(from: ReservationState, event: ReservationEvent): boolean {
  return TRANSITIONS[from][event] !== undefined;
}

/** True for a state that ends the request (`released`, `expired`, `cancelled`). */
export function isEnded(state: ReservationState): boolean {
  return !LIVE_STATES.includes(state);
}

/**
 * The reservation key of one stage attempt: `<workflowId>/<runId>/<stage>[#shard]/<attempt>`, plus
 * `~<n>` for the n-th renewed request of the same attempt (its earlier request ended before it ran).
 */
export function requestKey(
  workflowId: string,
  runId: string,
  stageId: string,
  attempt: number,
  shardIndex?: number,
  renewal = 0,
): string {
  const base = `${workflowId}/${runId}/${stageId}${shardIndex === undefined ? '' : `#${shardIndex}`}/${attempt}`;
  return renewal === 0 ? base : `${base}~${renewal}`;
}

/** The key to ask again with after `key`'s request ended before it ran. */
export function nextRequestKey(key: string): string {
  const m = /^(.*)~(\d+)$/.exec(key);
  return m === null ? `${key}~1` : `${m[1] as string}~${Number(m[2]) + 1}`;
}
