/**
 * The running grants of the incremental core: by key in the order they were first given (the order a
 * snapshot lists them in), and, for those with an expected end, kept sorted by (end, that order), so each
 * cycle's releases come out already in the order a stable sort by end gives, without sorting or garbage.
 */
import type { Release } from './backfill';
import type { RunningGrant } from './types';

/** A running grant in dense form. */
export interface RunningEntry {
  /** The grant as given. */
  readonly grant: RunningGrant;
  /** Dense `granted`. */
  readonly vector: Float64Array;
  /** `expectedEndAt` in epoch ms; NaN when unknown. */
  readonly endMs: number;
  /** First-given order (kept when the grant changes). */
  readonly seq: number;
  /** Its release, rewritten each cycle. */
  readonly release: { slot: number; vector: Float64Array; endMs: number };
}

function before(a: RunningEntry, b: RunningEntry): boolean {
  return a.endMs !== b.endMs ? a.endMs < b.endMs : a.seq < b.seq;
}

/** Running grants by key and by end. */
export class RunningSet {
  private readonly byKey = new Map<string, RunningEntry>();
  private readonly byEnd: RunningEntry[] = [];
  private readonly out: Release[] = [];
  private nextSeq = 0;

  /** Keys in first-given order. */
  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** Entries in first-given order. */
  values(): IterableIterator<RunningEntry> {
    return this.byKey.values();
  }

  /** Adds `grant`, or replaces the grant of its key keeping its place. */
  set(grant: RunningGrant, vector: Float64Array, endMs: number): void {
    const old = this.byKey.get(grant.key);
    if (old !== undefined) this.unsort(old);
    const e: RunningEntry = {
      grant,
      vector,
      endMs,
      seq: old?.seq ?? this.nextSeq++,
      release: { slot: -1, vector, endMs },
    };
    this.byKey.set(grant.key, e);
    if (Number.isNaN(endMs)) return;
    this.byEnd.splice(this.lowerBound(e), 0, e);
  }

  /** Removes the grant `key` (unknown keys are ignored). */
  delete(key: string): void {
    const e = this.byKey.get(key);
    if (e === undefined) return;
    this.byKey.delete(key);
    this.unsort(e);
  }

  /** Where `e` stands (or would stand) in `byEnd`: the first entry not before it (binary search). */
  private lowerBound(e: RunningEntry): number {
    const list = this.byEnd;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(list[mid] as RunningEntry, e)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private unsort(e: RunningEntry): void {
    if (Number.isNaN(e.endMs)) return;
    this.byEnd.splice(this.lowerBound(e), 1);
  }

  /**
   * The releases at `nowMs` (ends already past count as now), in the order a stable sort by end of the
   * first-given order gives. The array and its releases are reused by the next call.
   * @param slotOf - node id → usable slot, −1 when none
   */
  releases(nowMs: number, slotOf: (nodeId: string) => number): Release[] {
    const out = this.out;
    out.length = 0;
    const list = this.byEnd;
    let i = 0;
    // Ends already past all become now: equal, so in first-given order.
    while (i < list.length && (list[i] as RunningEntry).endMs <= nowMs)
      out.push((list[i++] as RunningEntry).release);
    if (i > 1) {
      const due = list.slice(0, i).sort((a, b) => a.seq - b.seq);
      for (let k = 0; k < i; k++) out[k] = (due[k] as RunningEntry).release;
    }
    for (; i < list.length; i++) out.push((list[i] as RunningEntry).release);
    for (const e of list) {
      e.release.slot = slotOf(e.grant.nodeId);
      e.release.endMs = Math.max(nowMs, e.endMs);
    }
    return out;
  }
}
