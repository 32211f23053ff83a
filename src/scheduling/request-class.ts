/**
 * A request class of the incremental core: the pending requests that share priority, importance, desired
 * shape, minimum shape and shard spec. Their scores differ only in the age term, which is monotone in
 * `readySince`, so within a class the cycle's order (score, then older) is exactly the `older` order
 * (readySince, sequence, shard index, key) at every instant: a class is kept sorted once, and the cycle's
 * order is a merge of its classes. Members are slot ids of the owning table; removal leaves a tombstone
 * (−1) so that no other member moves, compacted when tombstones outnumber members.
 */

/** Members per block of {@link RequestClass.blockMin}. */
export const BLOCK = 32;
const BLOCK_SHIFT = 5;

/** What a class reads of its table's slots. */
export interface SlotAccess {
  /** −1 when slot `a` comes first in the `older` order, 1 when `b` does (never 0 for distinct slots). */
  older(a: number, b: number): number;
  /** Slot → `expectedSeconds`, NaN when unknown. */
  readonly expected: Float64Array;
  /** Slot → its index in its class's `members`. */
  readonly pos: Int32Array;
}

/** One class of pending requests, sorted by `older`. */
export class RequestClass {
  /** Slot ids in `older` order from {@link head}; −1 where a member was removed. The last one is live. */
  members: number[] = [];
  /** Index of the first member that may be live. */
  head = 0;
  /** Live members. */
  live = 0;
  /**
   * Per block of {@link BLOCK} members: a lower bound of their `expectedSeconds` (Infinity when unknown;
   * removed members may still count), so a search for a short member skips whole blocks.
   */
  blockMin: number[] = [];
  /** Position in the table's list of non-empty classes, −1 when empty. */
  activeIndex = -1;
  /** Per cycle: index in {@link members} of the class's next request in the walk. */
  cursor = 0;
  /** Per cycle: the score of the member at {@link cursor} (set with it in score order). */
  cursorScore = 0;

  /**
   * @param key - the class key (priority, importance, shapes, shard spec)
   * @param priority - integer 1–10
   * @param importance - importance (base + boosts)
   * @param desiredShape - shape id of desired
   * @param minimumShape - shape id of minimum
   * @param shardKey - the shard spec's memo key (`shardSpecKey`), '' when not shardable
   * @param priorityWeighted - the score's priority term, `w.priority · (priority − 1) / 9`
   * @param importanceWeighted - the score's importance term
   */
  constructor(
    readonly key: string,
    readonly priority: number,
    readonly importance: number,
    readonly desiredShape: number,
    readonly minimumShape: number,
    readonly shardKey: string,
    readonly priorityWeighted: number,
    readonly importanceWeighted: number,
  ) {
    this.priorityImportance = priorityWeighted + importanceWeighted;
  }

  /** The first two terms of the score, added as `writeFactors` adds them. */
  readonly priorityImportance: number;

  /** Inserts `slot` at its place in the `older` order (appending is the common case: O(1)). */
  insert(slot: number, slots: SlotAccess): void {
    const m = this.members;
    const exp = slots.expected[slot] as number;
    if (this.live === 0) {
      this.members = [slot];
      this.head = 0;
      this.blockMin = [Number.isNaN(exp) ? Infinity : exp];
      slots.pos[slot] = 0;
      this.live = 1;
      return;
    }
    if (slots.older(m[m.length - 1] as number, slot) < 0) {
      const at = m.length;
      m.push(slot);
      slots.pos[slot] = at;
      const b = at >> BLOCK_SHIFT;
      const e = Number.isNaN(exp) ? Infinity : exp;
      if (b >= this.blockMin.length) this.blockMin.push(e);
      else if (e < (this.blockMin[b] as number)) this.blockMin[b] = e;
      this.live++;
      return;
    }
    // Out of order (a shard carrying its stage's readySince, an equal readySince with a lower sequence):
    // compact, then binary search and shift.
    this.compact(slots);
    const arr = this.members;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (slots.older(arr[mid] as number, slot) < 0) lo = mid + 1;
      else hi = mid;
    }
    arr.splice(lo, 0, slot);
    for (let i = lo; i < arr.length; i++) slots.pos[arr[i] as number] = i;
    this.live++;
    this.rebuildBlocks(slots, lo >> BLOCK_SHIFT);
  }

  /** Removes `slot` (a member). */
  remove(slot: number, slots: SlotAccess): void {
    const m = this.members;
    m[slots.pos[slot] as number] = -1;
    this.live--;
    if (this.live === 0) {
      this.members = [];
      this.blockMin = [];
      this.head = 0;
      return;
    }
    while (m[m.length - 1] === -1) m.pop();
    this.blockMin.length = (m.length + BLOCK - 1) >> BLOCK_SHIFT;
    while (m[this.head] === -1) this.head++;
    if (m.length - this.head - this.live > this.live + BLOCK) this.compact(slots);
  }

  /** Drops tombstones; members keep their order. */
  private compact(slots: SlotAccess): void {
    const m = this.members;
    if (m.length - this.head === this.live) {
      if (this.head === 0) return;
      this.members = m.slice(this.head);
    } else {
      const out: number[] = [];
      for (let i = this.head; i < m.length; i++) if ((m[i] as number) >= 0) out.push(m[i] as number);
      this.members = out;
    }
    this.head = 0;
    const arr = this.members;
    for (let i = 0; i < arr.length; i++) slots.pos[arr[i] as number] = i;
    this.rebuildBlocks(slots, 0);
  }

  private rebuildBlocks(slots: SlotAccess, fromBlock: number): void {
    const m = this.members;
    const blocks = (m.length + BLOCK - 1) >> BLOCK_SHIFT;
    this.blockMin.length = blocks;
    for (let b = fromBlock; b < blocks; b++) {
      let min = Infinity;
      const end = Math.min(m.length, (b + 1) << BLOCK_SHIFT);
      for (let i = b << BLOCK_SHIFT; i < end; i++) {
        const s = m[i] as number;
        if (s < 0) continue;
        const e = slots.expected[s] as number;
        if (e < min) min = e; // NaN never is
      }
      this.blockMin[b] = min;
    }
  }

  /**
   * The first index ≥ `from` whose member is live and not `skip`ped, or −1.
   * @param skip - true for slots already decided in this cycle
   */
  nextFrom(from: number, skip: (slot: number) => boolean): number {
    const m = this.members;
    for (let i = Math.max(from, this.head); i < m.length; i++) {
      const s = m[i] as number;
      if (s >= 0 && !skip(s)) return i;
    }
    return -1;
  }

  /**
   * The first index ≥ `from` whose member is live, not `skip`ped and has `expectedSeconds ≤ limit`, or −1;
   * whole blocks whose lower bound exceeds `limit` are skipped.
   */
  nextShortFrom(
    from: number,
    limit: number,
    expected: Float64Array,
    skip: (slot: number) => boolean,
  ): number {
    const m = this.members;
    let i = Math.max(from, this.head);
    while (i < m.length) {
      const b = i >> BLOCK_SHIFT;
      if ((this.blockMin[b] as number) > limit) {
        i = (b + 1) << BLOCK_SHIFT;
        continue;
      }
      const end = Math.min(m.length, (b + 1) << BLOCK_SHIFT);
      for (; i < end; i++) {
        const s = m[i] as number;
        if (s >= 0 && (expected[s] as number) <= limit && !skip(s)) return i;
      }
    }
    return -1;
  }
}
