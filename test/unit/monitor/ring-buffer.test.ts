import { RingBuffer } from '../../../src/monitor/ring-buffer';

describe('RingBuffer', () => {
  it('keeps at most `capacity` values, oldest evicted first', () => {
    const r = new RingBuffer(3);
    for (let i = 1; i <= 10; i++) r.push(i);
    expect(r.length).toBe(3);
    expect(r.toArray()).toEqual([8, 9, 10]);
    expect(r.get(0)).toBe(8);
    expect(r.last()).toBe(10);
  });

  it('is empty at first and after clear()', () => {
    const r = new RingBuffer(2);
    expect(r.length).toBe(0);
    expect(r.last()).toBeUndefined();
    r.push(1);
    r.clear();
    expect(r.toArray()).toEqual([]);
  });

  it.each([[-1], [3], [0.5]])('rejects out-of-range index %p', (i) => {
    const r = new RingBuffer(4);
    r.push(1);
    r.push(2);
    r.push(3);
    expect(() => r.get(i)).toThrow(RangeError);
  });

  it.each([[0], [-2], [1.5], [Number.NaN]])('rejects capacity %p', (c) => {
    expect(() => new RingBuffer(c)).toThrow(RangeError);
  });

  it('does not grow after a million pushes', () => {
    const r = new RingBuffer(120);
    for (let i = 0; i < 1_000_000; i++) r.push(i);
    expect(r.length).toBe(120);
    expect(r.get(0)).toBe(1_000_000 - 120);
  });
});
