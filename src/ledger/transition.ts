import { IllegalTransitionError } from './errors';
import type { ReservationState } from './types';

/** Something that happens to a reservation. `renew` keeps the state; the others may move it. */
export type ReservationEvent = 'grant' | 'start' | 'renew' | 'release' | 'expire' | 'cancel';

/**
 * The reservation state machine: `pending → granted → running → released`, or `expired` / `cancelled`.
 * Retries of a finishing event on a finished reservation are no-ops (release, cancel and expire are
 * idempotent), so an activity retried after it released does not fail. Anything absent is illegal.
 */
export const TRANSITIONS: Readonly<
  Record<ReservationState, Readonly<Partial<Record<ReservationEvent, ReservationState>>>>
> = {
  // A pending request holds nothing; releasing it withdraws it.
  pending: { grant: 'granted', release: 'released', cancel: 'cancelled' },
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
