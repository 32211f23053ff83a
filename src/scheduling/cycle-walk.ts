/**
 * One cycle of the incremental core: the order of `runCycle` found without sorting, by merging the
 * {@link RequestClass}es of a {@link RequestTable} (each already in order), and each request decided by the
 * shared {@link Placer} at its turn. The three phases are `runCycle`'s `nextIndex`:
 * 1. the previous cycle's holders (stable holds), in score order, unless outranked by more than
 *    `holdSwitchMargin`, at most `maxHolds`;
 * 2. with the starvation bound, the oldest saturated requests (a prefix of the `older` order, so the
 *    oldest class heads), until `max(1, maxHolds)` requests hold;
 * 3. everything else in score order: a k-way merge of the classes by their next member's score.
 *
 * Phase 3 visits only requests that can change their answer (the rank order of the others, which wait, is
 * merged again only when asked for: {@link CycleWalk.rankOrder}).
 * Once every hold is placed (and without `strictOrder`, where the first wait stops the cycle), a request
 * whose class has failed its desired, reduced and shard attempts in this cycle (the placer's memos) can only
 * be granted by backfilling into a hold: its class is dropped when its minimum cannot fit any hold's
 * node even with a margin far above rounding noise (free capacity only shrinks within a cycle), else only
 * members short enough to end before some hold's start are visited (a block-skipping search). Skipped
 * requests are exactly those the full walk would visit without any effect: they wait.
 */
import type { Release } from './backfill';
import { ClassHeap } from './class-heap';
import type { SchedulerConfig } from './config';
import { EPSILON, HOST_COUNT, type NodeModel } from './model';
import { dominantShare, fitFraction } from './placement';
import { Placer, type Placed } from './placer';
import type { RequestClass } from './request-class';
import type { RequestTable } from './request-table';
import { clamp01 } from './score';
import type { PendingRequest } from './types';

/** Relative margin above which a capacity shortfall cannot be rounding noise (noise is ~1e-16 per operation). */
const ROBUST = 1e-6;

const DEAD = 0;
const BACKFILL = 1;
const FULL = 2;

/** Per-shape arrays a walk fills, kept by the caller from one cycle to the next (no garbage per cycle). */
export class WalkBuffers {
  /** Shape id → weighted fit. */
  fit = new Float64Array(0);
  /** Shape id → weighted size. */
  size = new Float64Array(0);

  /** Makes both at least `shapes` long; `fit` all NaN (not computed). */
  reset(shapes: number): void {
    if (this.fit.length < shapes) {
      this.fit = new Float64Array(Math.max(shapes, 2 * this.fit.length));
      this.size = new Float64Array(this.fit.length);
    }
    this.fit.fill(Number.NaN, 0, shapes);
  }
}

/** The walk of one cycle; construct, then {@link walk} once. */
export class CycleWalk {
  /** The placement state (its trial ends the cycle with every decision taken). */
  readonly placer: Placer;
  /** Slots the walk visited, in rank order (a subsequence of it: requests that could not change are skipped). */
  readonly visited: number[] = [];
  /** Parallel to {@link visited}: the decision, or null for a plain wait. */
  readonly placed: Array<Placed | null> = [];
  /** Weighted fit per desired shape id (`w.fit · fit`), for the shapes of pending requests. */
  readonly fitWeighted: Float64Array;
  /** Weighted size per desired shape id (`w.size · (1 − share)`). */
  readonly sizeWeighted: Float64Array;
  private readonly isTaken: (slot: number) => boolean;

  /**
   * @param table - the pending requests (not written but for the run stamps)
   * @param model - the nodes and pools
   * @param releases - capacity returning at known times (running grants')
   * @param holders - the previous cycle's holders
   * @param config - the compiled config
   * @param nowMs - the cycle's time, epoch ms
   * @param stamp - this run's stamp (> 0, new per run)
   * @param texts - build the queue texts (false when only the changes are returned)
   * @param buffers - per-shape arrays to fill (they stay the walk's until the next one on the same buffers)
   */
  constructor(
    private readonly table: RequestTable,
    model: NodeModel,
    releases: Release[],
    private readonly holders: readonly string[],
    private readonly config: SchedulerConfig,
    readonly nowMs: number,
    readonly stamp: number,
    texts: boolean,
    buffers: WalkBuffers = new WalkBuffers(),
  ) {
    const vectors = table.shapes.vectors;
    this.placer = new Placer(model, vectors, config, nowMs, releases, texts);
    buffers.reset(vectors.length);
    this.fitWeighted = buffers.fit;
    this.sizeWeighted = buffers.size;
    const w = config.weights;
    for (const c of table.active) {
      const shape = c.desiredShape;
      if (!Number.isNaN(this.fitWeighted[shape] as number)) continue;
      const desired = vectors[shape] as Float64Array;
      // Against the snapshot's free capacity, before anything is taken (as `runCycle` scores).
      this.fitWeighted[shape] = w.fit * clamp01(fitFraction(this.placer.trial, desired));
      this.sizeWeighted[shape] = w.size * (1 - clamp01(dominantShare(model.maxCapacity, desired)));
    }
    const takenAt = table.takenAt;
    this.isTaken = (slot) => takenAt[slot] === stamp;
  }

  /** The weighted age factor of `slot` at this cycle's time. */
  age(slot: number): number {
    const waitSeconds = (this.nowMs - (this.table.readyMs[slot] as number)) / 1000;
    return this.config.weights.age * clamp01(Math.max(0, waitSeconds) / this.config.ageSaturationSeconds);
  }

  /** The score of `slot` (of class `cls`), summed in `writeFactors`' order. */
  score(slot: number, cls: RequestClass): number {
    const shape = cls.desiredShape;
    return (
      cls.priorityImportance +
      (this.fitWeighted[shape] as number) +
      this.age(slot) +
      (this.sizeWeighted[shape] as number)
    );
  }

  /** Score order between two slots: higher score first, then older. */
  private scoreBefore(a: number, b: number): boolean {
    const t = this.table;
    const sa = this.score(a, t.classOf[a] as RequestClass);
    const sb = this.score(b, t.classOf[b] as RequestClass);
    return sa !== sb ? sa > sb : t.older(a, b) < 0;
  }

  /**
   * Runs the three phases.
   */
  walk(): void {
    if (this.table.size === 0) return;
    this.stableHolders();
    this.saturated();
    this.scoreOrder();
  }

  private take(slot: number, early: boolean): void {
    const t = this.table;
    t.takenAt[slot] = this.stamp;
    if (early) t.earlyAt[slot] = this.stamp;
    let placed: Placed | null = null;
    if (!this.placer.stopped) {
      placed = this.placer.place(
        t.requests[slot] as PendingRequest,
        t.desiredShape[slot] as number,
        t.minimumShape[slot] as number,
        t.expected[slot] as number,
      );
    }
    this.visited.push(slot);
    this.placed.push(placed);
  }

  /** Phase 1: stable holders. */
  private stableHolders(): void {
    const { holders, config, table: t } = this;
    if (holders.length === 0 || config.maxHolds === 0) return;
    let top = -Infinity;
    for (const c of t.active) {
      const s = this.score(c.members[c.head] as number, c);
      if (s > top) top = s;
    }
    const chosen: number[] = [];
    for (let k = 0; k < holders.length; k++) {
      const key = holders[k] as string;
      const slot = t.slotOf.get(key);
      if (slot === undefined || holders.indexOf(key) < k) continue; // unknown, or a duplicate
      if (top - this.score(slot, t.classOf[slot] as RequestClass) <= config.holdSwitchMargin)
        chosen.push(slot);
    }
    chosen.sort((a, b) => (this.scoreBefore(a, b) ? -1 : 1));
    const n = Math.min(chosen.length, config.maxHolds);
    for (let k = 0; k < n; k++) this.take(chosen[k] as number, true);
  }

  /** Phase 2: the oldest saturated requests until enough hold. */
  private saturated(): void {
    const { config, table: t, placer } = this;
    if (!config.enforceStarvationBound) return;
    const until = Math.max(1, config.maxHolds);
    if (placer.holds.length >= until) return;
    const saturationMs = config.ageSaturationSeconds * 1000;
    const items: RequestClass[] = [];
    for (const c of t.active) {
      const i = c.nextFrom(c.head, this.isTaken);
      if (i < 0) continue;
      c.cursor = i;
      items.push(c);
    }
    const heap = new ClassHeap(
      (a, b) => t.older(a.members[a.cursor] as number, b.members[b.cursor] as number) < 0,
    );
    heap.build(items);
    while (placer.holds.length < until) {
      const c = heap.top();
      if (c === undefined) break;
      const slot = c.members[c.cursor] as number;
      if (this.nowMs - (t.readyMs[slot] as number) < saturationMs) break; // the rest are younger
      this.take(slot, true);
      const i = c.nextFrom(c.cursor + 1, this.isTaken);
      if (i < 0) heap.pop();
      else {
        c.cursor = i;
        heap.topMovedLater();
      }
    }
  }

  private setCursor(c: RequestClass, i: number): void {
    c.cursor = i;
    c.cursorScore = this.score(c.members[i] as number, c);
  }

  /** Phase 3: score order, merging the classes. */
  private scoreOrder(): void {
    const { config, table: t, placer } = this;
    const items: RequestClass[] = [];
    for (const c of t.active) {
      const i = c.nextFrom(c.head, this.isTaken);
      if (i < 0) continue;
      this.setCursor(c, i);
      items.push(c);
    }
    const heap = this.scoreHeap();
    heap.build(items);
    // Skipping needs every hold placed (a blocked request would hold) and no strict order (it would stop).
    const mayskip = !config.strictOrder;
    let limit = Number.NaN;
    for (;;) {
      const c = heap.top();
      if (c === undefined) break;
      const slot = c.members[c.cursor] as number;
      if (mayskip && placer.holds.length >= config.maxHolds) {
        if (Number.isNaN(limit)) limit = this.backfillLimit();
        const status = this.status(c);
        if (status === DEAD) {
          heap.pop();
          continue;
        }
        if (status === BACKFILL && !((t.expected[slot] as number) <= limit)) {
          const i = c.nextShortFrom(c.cursor, limit, t.expected, this.isTaken);
          if (i < 0) heap.pop();
          else {
            this.setCursor(c, i);
            heap.topMovedLater();
          }
          continue;
        }
      }
      this.take(slot, false);
      if (placer.stopped) break; // strict order: everything after the first wait waits
      const i = c.nextFrom(c.cursor + 1, this.isTaken);
      if (i < 0) heap.pop();
      else {
        this.setCursor(c, i);
        heap.topMovedLater();
      }
    }
  }

  /**
   * After {@link walk}: the first `limit` slots in rank order that `keep` accepts — the early ones (phases
   * 1–2), then a fresh merge of everything else in score order (where phase 3 visited
   * its requests). O((limit + left out) · log classes).
   * @param placedOut - when given, receives each returned slot's decision (null for a plain wait)
   */
  rankOrder(
    limit: number,
    keep: (slot: number, placed: Placed | null) => boolean,
    placedOut?: Array<Placed | null>,
  ): number[] {
    const t = this.table;
    const out: number[] = [];
    let k = 0;
    for (; k < this.visited.length && out.length < limit; k++) {
      const slot = this.visited[k] as number;
      if (t.earlyAt[slot] !== this.stamp) break;
      const p = this.placed[k] as Placed | null;
      if (keep(slot, p)) {
        out.push(slot);
        placedOut?.push(p);
      }
    }
    if (out.length >= limit) return out;
    // Phase 3's decisions by slot (visited after the early ones).
    const placedAt = new Map<number, Placed | null>();
    for (; k < this.visited.length; k++)
      placedAt.set(this.visited[k] as number, this.placed[k] as Placed | null);
    const stamp = this.stamp;
    const early = (slot: number): boolean => t.earlyAt[slot] === stamp;
    const items: RequestClass[] = [];
    for (const c of t.active) {
      const i = c.nextFrom(c.head, early);
      if (i < 0) continue;
      this.setCursor(c, i);
      items.push(c);
    }
    const heap = this.scoreHeap();
    heap.build(items);
    for (;;) {
      const c = heap.top();
      if (c === undefined || out.length >= limit) break;
      const slot = c.members[c.cursor] as number;
      const p = placedAt.size === 0 ? null : (placedAt.get(slot) ?? null);
      if (keep(slot, p)) {
        out.push(slot);
        placedOut?.push(p);
      }
      const i = c.nextFrom(c.cursor + 1, early);
      if (i < 0) heap.pop();
      else {
        this.setCursor(c, i);
        heap.topMovedLater();
      }
    }
    return out;
  }

  private scoreHeap(): ClassHeap {
    const t = this.table;
    return new ClassHeap((a, b) =>
      a.cursorScore !== b.cursorScore
        ? a.cursorScore > b.cursorScore
        : t.older(a.members[a.cursor] as number, b.members[b.cursor] as number) < 0,
    );
  }

  /**
   * The longest run time, seconds, that could still backfill into a hold (its start minus now), widened far
   * above rounding noise: the placer checks each candidate exactly. −Infinity when no hold has a start.
   */
  private backfillLimit(): number {
    let limit = -Infinity;
    for (const h of this.placer.holds) {
      if (h.startsAtMs === null) continue;
      const seconds = (h.startsAtMs - this.nowMs) / 1000;
      if (seconds > limit) limit = seconds;
    }
    return limit === -Infinity ? limit : limit + Math.abs(limit) * 1e-9 + 1e-6;
  }

  /** What a class can still get in this cycle, once every hold is placed. */
  private status(c: RequestClass): number {
    const pl = this.placer;
    if (pl.noFitDesired[c.desiredShape] === 0) return FULL;
    if (c.minimumShape !== c.desiredShape && !pl.reducedFailed(c.minimumShape, c.desiredShape)) return FULL;
    if (c.shardKey !== '' && !pl.shardFailed(c.shardKey)) return FULL;
    if (pl.holds.length === 0) return DEAD;
    return this.mayBackfill(c.minimumShape) ? BACKFILL : DEAD;
  }

  /**
   * Whether `minimum` could fit some hold's node (its free plus held capacity) with a margin far above
   * rounding noise: when false, no member of the class backfills for the rest of the cycle.
   */
  private mayBackfill(minimumShape: number): boolean {
    const trial = this.placer.trial;
    const m = this.table.shapes.vectors[minimumShape] as Float64Array;
    const width = m.length;
    for (const h of this.placer.holds) {
      if (h.startsAtMs === null) continue;
      let ok = true;
      for (let c = 0; c < width && ok; c++) {
        const free =
          c < HOST_COUNT
            ? (trial.nodeFree[h.slot * HOST_COUNT + c] as number)
            : (trial.poolFree[c - HOST_COUNT] as number);
        const avail = free + (h.held[c] as number);
        if ((m[c] as number) > avail + EPSILON + ROBUST * Math.max(1, Math.abs(avail))) ok = false;
      }
      if (ok) return true;
    }
    return false;
  }
}
