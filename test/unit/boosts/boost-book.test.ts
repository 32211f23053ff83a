import { BoostBook, MAX_IGNORED_BOOSTS } from '../../../src/boosts/boost-book';
import { checkBoostRequest } from '../../../src/boosts/boost-request';

const now = new Date('2026-01-01T00:00:00Z');
const later = (s: number) => new Date(now.getTime() + s * 1000).toISOString();

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('BoostBook: base + active boosts capped at 10', () => {
  it('20 boosts of 3 no longer stack to 60: the fourth is refused, naming the cap', () => {
    const book = new BoostBook(0);
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      try {
        book.reserve(3, now)();
        book.add({ amount: 3, expiresAt: later(60), reason: 'r', actor: 'a' });
      } catch (err) {
        expect((err as Error).name).toBe('InvalidBoostError');
        expect((err as Error).message).toContain('cap of 10');
        refused++;
      }
    }
    expect(refused).toBe(17);
    expect(book.importance(now)).toBe(9);
    expect(() => book.check(1, now)).not.toThrow(); // exactly 10 is allowed
    expect(() => book.check(1.01, now)).toThrow(/cap of 10/);
  });

  it('counts boosts still being recorded (concurrent updates cannot overshoot together)', () => {
    const book = new BoostBook(5);
    const release = book.reserve(3, now);
    expect(errorOf(() => book.reserve(3, now)).message).toContain('base 5 + active boosts 3');
    release();
    expect(() => book.reserve(3, now)).not.toThrow();
  });

  it('frees room when a boost expires', () => {
    const book = new BoostBook(8);
    book.add({ amount: 2, expiresAt: later(10), reason: 'r', actor: 'a' });
    expect(() => book.check(1, now)).toThrow();
    expect(() => book.check(1, new Date(now.getTime() + 11_000))).not.toThrow();
  });
});

describe('ignored boosts: bounded summaries, never the value', () => {
  it('five 1 MB reasons keep the status small', () => {
    const book = new BoostBook(0);
    const huge = 'x'.repeat(1_000_000);
    for (let i = 0; i < 5; i++) {
      const err = errorOf(() =>
        checkBoostRequest({ amount: 1, ttlSeconds: 60, reason: huge }, { workflowId: 'w', now }),
      );
      book.ignore(now, err as Error & { field: string });
    }
    const size = JSON.stringify(book.ignored()).length;
    expect(size).toBeLessThan(2_000);
    expect(book.ignored()[0]).toMatchObject({ field: 'reason' });
    expect(book.ignored()[0]?.error).toContain('at most 500 characters');
  });

  it(`keeps the newest ${MAX_IGNORED_BOOSTS} and counts all`, () => {
    const book = new BoostBook(0);
    for (let i = 0; i < 100; i++) book.ignore(now, { field: 'amount', message: `bad ${i}` });
    expect(book.ignored()).toHaveLength(MAX_IGNORED_BOOSTS);
    expect(book.ignored().at(-1)?.error).toBe('bad 99');
    expect(book.ignoredCount()).toBe(100);
  });

  it('an error message of any size is cut to 200 characters', () => {
    const book = new BoostBook(0);
    book.ignore(now, { message: 'y'.repeat(10_000) });
    expect(book.ignored()[0]?.error.length).toBe(200);
  });
});
