import {
  canTransition,
  isEnded,
  nextRequestKey,
  requestKey,
  transition,
  TRANSITIONS,
  type ReservationEvent,
} from '../../../src/admission/lifecycle';
import type { ReservationState } from '../../../src/ledger/types';

const STATES: ReservationState[] = ['pending', 'granted', 'running', 'released', 'expired', 'cancelled'];
const EVENTS: ReservationEvent[] = ['grant', 'start', 'renew', 'release', 'expire', 'cancel'];

// Every (state, event) pair: the expected next state, or null for an illegal move.
const EXPECTED: Record<ReservationState, Record<ReservationEvent, ReservationState | null>> = {
  pending: {
    grant: 'granted',
    start: null,
    renew: 'pending',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  granted: {
    grant: null,
    start: 'running',
    renew: 'granted',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  running: {
    grant: null,
    start: 'running',
    renew: 'running',
    release: 'released',
    expire: 'expired',
    cancel: 'cancelled',
  },
  released: {
    grant: null,
    start: null,
    renew: null,
    release: 'released',
    expire: 'released',
    cancel: 'released',
  },
  expired: {
    grant: null,
    start: null,
    renew: null,
    release: 'expired',
    expire: 'expired',
    cancel: 'expired',
  },
  cancelled: {
    grant: null,
    start: null,
    renew: null,
    release: 'cancelled',
    expire: 'cancelled',
    cancel: 'cancelled',
  },
};

const cases = STATES.flatMap((from) => EVENTS.map((event) => ({ from, event, to: EXPECTED[from][event] })));

describe('reservation state machine', () => {
  it.each(cases.filter((c) => c.to !== null))('$from --$event--> $to', ({ from, event, to }) => {
    expect(transition(from, event)).toBe(to);
    expect(canTransition(from, event)).toBe(true);
  });

  it.each(cases.filter((c) => c.to === null))('$from --$event--> illegal', ({ from, event }) => {
    expect(canTransition(from, event)).toBe(false);
    let caught: unknown;
    try {
      transition(from, event, 'k1');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      name: 'IllegalTransitionError',
      from,
      event,
      key: 'k1',
      retryable: false,
    });
  });

  it('covers exactly the expected table (no extra moves)', () => {
    for (const from of STATES) {
      const legal = Object.entries(EXPECTED[from]).filter(([, to]) => to !== null);
      expect(TRANSITIONS[from]).toEqual(Object.fromEntries(legal));
    }
  });

  it('never leaves a terminal state', () => {
    for (const from of ['released', 'expired', 'cancelled'] as const) {
      for (const event of EVENTS) if (canTransition(from, event)) expect(transition(from, event)).toBe(from);
    }
  });
});

test('request keys: one per attempt and shard, renewed with ~n after a request ended before it ran', () => {
  expect(requestKey('wf', 'run', 's', 1)).toBe('wf/run/s/1');
  expect(requestKey('wf', 'run', 's', 2, 3)).toBe('wf/run/s#3/2');
  expect(requestKey('wf', 'run', 's', 2, 3, 4)).toBe('wf/run/s#3/2~4');
  expect(nextRequestKey('wf/run/s/1')).toBe('wf/run/s/1~1');
  expect(nextRequestKey('wf/run/s/1~1')).toBe('wf/run/s/1~2');
  expect(nextRequestKey(nextRequestKey(requestKey('a~b', 'r', 's', 1)))).toBe('a~b/r/s/1~2');
});

test('ended states are exactly the terminal ones', () => {
  expect(STATES.filter(isEnded)).toEqual(['released', 'expired', 'cancelled']);
});
