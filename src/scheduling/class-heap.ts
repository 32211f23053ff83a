/**
 * A binary min-heap of request classes keyed by their current candidate (the member at `cursor`): the
 * k-way merge of the incremental core. The key of a class only moves later in the order while it is in the
 * heap, so moving the top's key is a sift-down.
 */
import type { RequestClass } from './request-class';

/** Classes ordered by `before`. */
export class ClassHeap {
  private items: RequestClass[] = [];

  /** @param before - true when class `a`'s candidate comes before class `b`'s */
  constructor(private readonly before: (a: RequestClass, b: RequestClass) => boolean) {}

  /** Number of classes in the heap. */
  get size(): number {
    return this.items.length;
  }

  /** Replaces the content with `items` (taken over, not copied) in O(n). */
  build(items: RequestClass[]): void {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The class whose candidate comes first, or undefined when empty. */
  top(): RequestClass | undefined {
    return this.items[0];
  }

  /** Removes the top. */
  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    this.siftDown(0);
  }

  /** Restores the order after the top's key moved later. */
  topMovedLater(): void {
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    const item = items[i] as RequestClass;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && this.before(items[r] as RequestClass, items[l] as RequestClass)) m = r;
      if (!this.before(items[m] as RequestClass, item)) break;
      items[i] = items[m] as RequestClass;
      i = m;
    }
    items[i] = item;
  }
}
