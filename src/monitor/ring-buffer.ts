/** A read-only view of a window of numbers, oldest first. */
export interface NumberWindow {
  /** How many values are held (≤ capacity). */
  readonly length: number;
  /**
   * The `i`-th value, oldest first (0 ≤ i < length).
   * @throws RangeError when `i` is out of range
   */
  get(i: number): number;
  /** The newest value, or `undefined` when empty. */
  last(): number | undefined;
}

/**
 * A fixed-capacity FIFO of numbers backed by a `Float64Array`: pushing past capacity overwrites the
 * oldest value, so memory never grows after construction. O(1) push and random access.
 */
export class RingBuffer implements NumberWindow {
  private readonly data: Float64Array;
  private start = 0;
  private count = 0;

  /**
   * @param capacity - maximum number of values held (an integer ≥ 1)
   * @throws RangeError when `capacity` is not an integer ≥ 1
   */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be an integer >= 1, got ${capacity}`);
    }
    this.data = new Float64Array(capacity);
  }

  /** How many values are held (≤ `capacity`). */
  get length(): number {
    return this.count;
  }

  /** Appends `value`, evicting the oldest value when full. */
  push(value: number): void {
    if (this.count < this.capacity) {
      this.data[(this.start + this.count) % this.capacity] = value;
      this.count++;
    } else {
      this.data[this.start] = value;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /**
   * The `i`-th value, oldest first.
   * @throws RangeError when `i` is not an integer in `[0, length)`
   */
  get(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`RingBuffer index ${i} out of range [0, ${this.count})`);
    }
    return this.data[(this.start + i) % this.capacity] as number;
  }

  /** The newest value, or `undefined` when empty. */
  last(): number | undefined {
    return this.count === 0 ? undefined : this.get(this.count - 1);
  }

  /** A copy of the held values, oldest first. */
  toArray(): number[] {
    const out = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.data[(this.start + i) % this.capacity] as number;
    return out;
  }

  /** Removes every value (capacity is unchanged). */
  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}
