/**
 * The pending requests of the incremental core, kept across cycles: validated and compiled once on arrival
 * (dense shapes interned in a {@link ShapeTable}), stored by slot in typed arrays (struct of arrays), and
 * grouped into {@link RequestClass}es, each sorted by the `older` order. A slot is reused after its request
 * leaves.
 */
import type { SchedulerConfig } from './config';
import { InvalidSnapshotError } from './errors';
import { checkRequest, type ResourceSpace } from './model';
import { shardSpecKey } from './placer';
import { RequestClass, type SlotAccess } from './request-class';
import { ShapeTable } from './shape-table';
import type { PendingRequest } from './types';

/** A validated request in dense form, not yet stored. */
export interface CompiledPending {
  /** The request. */
  readonly request: PendingRequest;
  /** `readySince`, epoch ms. */
  readonly readyMs: number;
  /** Shape id of desired. */
  readonly desiredShape: number;
  /** Shape id of minimum (desired's when equal). */
  readonly minimumShape: number;
}

/** `-0` and `0` are different numbers to the score's breakdown: keys keep them apart. */
function numberKey(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** Pending requests by slot, grouped into classes. */
export class RequestTable implements SlotAccess {
  /** Interned shapes (read by the placer as its shape vectors). */
  readonly shapes: ShapeTable;
  /** Key → slot. */
  readonly slotOf = new Map<string, number>();
  /** Slot → request (`undefined` when free). */
  readonly requests: Array<PendingRequest | undefined> = [];
  /** Slot → class. */
  readonly classOf: Array<RequestClass | undefined> = [];
  /** Non-empty classes (order irrelevant). */
  readonly active: RequestClass[] = [];
  /** Slot → readySince, epoch ms. */
  readyMs: Float64Array = new Float64Array(0);
  /** Slot → sequence, Infinity when absent. */
  sequence: Float64Array = new Float64Array(0);
  /** Slot → shard index, −1 when null. */
  shardIndex: Float64Array = new Float64Array(0);
  /** Slot → expectedSeconds, NaN when absent. */
  expected: Float64Array = new Float64Array(0);
  /** Slot → desired shape id. */
  desiredShape: Int32Array = new Int32Array(0);
  /** Slot → minimum shape id. */
  minimumShape: Int32Array = new Int32Array(0);
  /** Slot → index in its class's members. */
  pos: Int32Array = new Int32Array(0);
  /** Slot → the run stamp of the cycle that took it (see `CycleWalk`). */
  takenAt: Int32Array = new Int32Array(0);
  /** Slot → the run stamp of the cycle that took it before score order (stable holders, saturated). */
  earlyAt: Int32Array = new Int32Array(0);
  private readonly classes = new Map<string, RequestClass>();
  private readonly free: number[] = [];
  private readonly scratch: Float64Array;

  /**
   * @param space - the column layout (every name a request uses must be in it)
   * @param config - the compiled config (weights of the score's class constant)
   */
  constructor(
    readonly space: ResourceSpace,
    private readonly config: SchedulerConfig,
  ) {
    this.shapes = new ShapeTable(space.size);
    this.scratch = new Float64Array(2 * space.size);
  }

  /** Number of pending requests. */
  get size(): number {
    return this.slotOf.size;
  }

  /**
   * Validates `r` (as `buildModel` does) and interns its shapes.
   * @param path - how errors name it, e.g. `add[2]`
   * @throws InvalidSnapshotError naming the first bad field.
   */
  compile(r: PendingRequest, path: string): CompiledPending {
    const readyMs = checkRequest(path, r);
    const width = this.space.size;
    const scratch = this.scratch;
    scratch.fill(0);
    const badDesired = this.space.fill(r.desired, scratch, 0);
    if (badDesired !== null) throw badDesired.error(`${path}.desired`);
    const badMinimum = this.space.fill(r.minimum, scratch, width);
    if (badMinimum !== null) throw badMinimum.error(`${path}.minimum`);
    let same = true;
    for (let c = 0; c < width; c++) {
      if ((scratch[width + c] as number) !== (scratch[c] as number)) same = false;
      if ((scratch[width + c] as number) > (scratch[c] as number)) {
        throw new InvalidSnapshotError(
          `${path}.minimum.${this.space.names[c] as string}`,
          scratch[width + c],
          `must not exceed desired (${scratch[c]})`,
        );
      }
    }
    if (r.shard?.perShardFloor !== undefined)
      this.space.dense(`${path}.shard.perShardFloor`, r.shard.perShardFloor);
    const desiredShape = this.shapes.intern(scratch, 0);
    const minimumShape = same ? desiredShape : this.shapes.intern(scratch, width);
    return { request: r, readyMs, desiredShape, minimumShape };
  }

  /** Stores a compiled request (its key must not be pending). @returns its slot. */
  insert(c: CompiledPending): number {
    const slot = this.free.pop() ?? this.requests.length;
    if (slot === this.requests.length) {
      this.requests.push(undefined);
      this.classOf.push(undefined);
      if (slot >= this.readyMs.length) this.grow(Math.max(16, slot * 2));
    }
    const r = c.request;
    this.requests[slot] = r;
    this.slotOf.set(r.key, slot);
    this.readyMs[slot] = c.readyMs;
    this.sequence[slot] = r.sequence ?? Infinity;
    this.shardIndex[slot] = r.shardIndex ?? -1;
    this.expected[slot] = r.expectedSeconds ?? Number.NaN;
    this.desiredShape[slot] = c.desiredShape;
    this.minimumShape[slot] = c.minimumShape;
    this.takenAt[slot] = 0;
    this.earlyAt[slot] = 0;
    this.shapes.retain(c.desiredShape);
    this.shapes.retain(c.minimumShape);
    const shardKey = shardSpecKey(c.desiredShape, r);
    const key = `${r.priority}|${numberKey(r.importance)}|${c.desiredShape}|${c.minimumShape}|${shardKey}`;
    let cls = this.classes.get(key);
    if (cls === undefined) {
      const w = this.config.weights;
      // The score's first two terms, as `writeFactors` computes and adds them.
      const p = w.priority * ((r.priority - 1) / 9);
      const i = w.importance * (r.importance / (r.importance + this.config.importanceHalfSaturation));
      cls = new RequestClass(key, r.priority, r.importance, c.desiredShape, c.minimumShape, shardKey, p, i);
      this.classes.set(key, cls);
    }
    if (cls.live === 0) {
      cls.activeIndex = this.active.length;
      this.active.push(cls);
    }
    cls.insert(slot, this);
    this.classOf[slot] = cls;
    return slot;
  }

  /** Removes the request `key`. @returns whether it was pending. */
  remove(key: string): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    const cls = this.classOf[slot] as RequestClass;
    cls.remove(slot, this);
    if (cls.live === 0) {
      const last = this.active.pop() as RequestClass;
      if (last !== cls) {
        this.active[cls.activeIndex] = last;
        last.activeIndex = cls.activeIndex;
      }
      cls.activeIndex = -1;
      this.classes.delete(cls.key);
    }
    this.shapes.release(this.desiredShape[slot] as number);
    this.shapes.release(this.minimumShape[slot] as number);
    this.requests[slot] = undefined;
    this.classOf[slot] = undefined;
    this.slotOf.delete(key);
    this.free.push(slot);
    return true;
  }

  /** Whether most interned shapes are no longer used (the owner then rebuilds the table). */
  get wasteful(): boolean {
    return this.shapes.size > 2 * this.shapes.liveCount + 1024;
  }

  /**
   * The cycle's tie order: older `readySince`, then the arrival sequence, then the shard index, then the key.
   * @returns −1 when slot `a` comes first, 1 when `b` does, 0 only for the same request.
   */
  older(a: number, b: number): number {
    const ra = this.readyMs[a] as number;
    const rb = this.readyMs[b] as number;
    if (ra !== rb) return ra < rb ? -1 : 1;
    const qa = this.sequence[a] as number;
    const qb = this.sequence[b] as number;
    if (qa !== qb) return qa < qb ? -1 : 1;
    const ia = this.shardIndex[a] as number;
    const ib = this.shardIndex[b] as number;
    if (ia !== ib) return ia < ib ? -1 : 1;
    const ka = (this.requests[a] as PendingRequest).key;
    const kb = (this.requests[b] as PendingRequest).key;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }

  private grow(size: number): void {
    const f64 = (old: Float64Array): Float64Array => {
      const next = new Float64Array(size);
      next.set(old);
      return next;
    };
    const i32 = (old: Int32Array): Int32Array => {
      const next = new Int32Array(size);
      next.set(old);
      return next;
    };
    this.readyMs = f64(this.readyMs);
    this.sequence = f64(this.sequence);
    this.shardIndex = f64(this.shardIndex);
    this.expected = f64(this.expected);
    this.desiredShape = i32(this.desiredShape);
    this.minimumShape = i32(this.minimumShape);
    this.pos = i32(this.pos);
    this.takenAt = i32(this.takenAt);
    this.earlyAt = i32(this.earlyAt);
  }
}
