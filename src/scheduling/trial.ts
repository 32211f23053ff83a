/**
 * The cycle's working copy of free capacity. Every change goes through {@link Trial.take}, which logs it,
 * so a tentative placement can be rolled back with {@link Trial.undo} (kueue's "simulate, then undo").
 * The snapshot and the model it was copied from are never written.
 */
import { EPSILON, HOST_COUNT, type NodeModel } from './model';

/** A mutable, undoable copy of a model's free capacity. */
export class Trial {
  /** Free per usable node, row-major `[slot · HOST_COUNT + column]` (may go negative only by float noise). */
  readonly nodeFree: Float64Array;
  /** Free per pool, by column − HOST_COUNT. */
  readonly poolFree: Float64Array;
  /** Bumped on every take or undo: memoised "does not fit" answers are valid while it is unchanged. */
  version = 0;
  private readonly log: number[] = [];
  private readonly maxFree = new Float64Array(HOST_COUNT);
  private readonly sumFree = new Float64Array(HOST_COUNT);
  private aggregatesAt = -1;

  /** Copies `model`'s free capacity. */
  constructor(readonly model: NodeModel) {
    this.nodeFree = model.nodeFree.slice();
    this.poolFree = model.poolFree.slice();
  }

  /** A point to {@link undo} back to. */
  mark(): number {
    return this.log.length;
  }

  /** Rolls every take since `mark` back. */
  undo(mark: number): void {
    while (this.log.length > mark) {
      const amount = this.log.pop() as number;
      const cell = this.log.pop() as number;
      if (cell >= 0) this.nodeFree[cell] = (this.nodeFree[cell] as number) + amount;
      else this.poolFree[-cell - 1] = (this.poolFree[-cell - 1] as number) + amount;
    }
    this.version++;
  }

  /**
   * Takes `times × vector` (dense, full width) from node `slot` (host columns; `slot < 0` takes none) and
   * from the pools (pool columns).
   */
  take(slot: number, vector: Float64Array, times = 1): void {
    if (slot >= 0) {
      const base = slot * HOST_COUNT;
      for (let c = 0; c < HOST_COUNT; c++) {
        const amount = (vector[c] as number) * times;
        if (amount === 0) continue;
        this.nodeFree[base + c] = (this.nodeFree[base + c] as number) - amount;
        this.log.push(base + c, amount);
      }
    }
    for (let p = 0; p < this.poolFree.length; p++) {
      const amount = (vector[HOST_COUNT + p] as number) * times;
      if (amount === 0) continue;
      this.poolFree[p] = (this.poolFree[p] as number) - amount;
      this.log.push(-p - 1, amount);
    }
    this.version++;
  }

  /** True when `times × vector`'s pool columns fit in the pools' free capacity. */
  poolsFit(vector: Float64Array, times = 1): boolean {
    for (let p = 0; p < this.poolFree.length; p++) {
      if ((vector[HOST_COUNT + p] as number) * times > (this.poolFree[p] as number) + EPSILON) return false;
    }
    return true;
  }

  /** True when `vector`'s host columns fit on node `slot`. */
  hostFits(slot: number, vector: Float64Array): boolean {
    const base = slot * HOST_COUNT;
    for (let c = 0; c < HOST_COUNT; c++) {
      if ((vector[c] as number) > (this.nodeFree[base + c] as number) + EPSILON) return false;
    }
    return true;
  }

  /**
   * Cheap necessary condition for `times × vector` to fit on the usable nodes together: each column fits the
   * largest free and the sum fits the total free. False means it certainly does not fit.
   */
  mayFit(vector: Float64Array, times = 1): boolean {
    this.refreshAggregates();
    for (let c = 0; c < HOST_COUNT; c++) {
      const v = vector[c] as number;
      if (v === 0) continue;
      if (v > (this.maxFree[c] as number) + EPSILON) return false;
      if (v * times > (this.sumFree[c] as number) + EPSILON) return false;
    }
    return this.poolsFit(vector, times);
  }

  private refreshAggregates(): void {
    if (this.aggregatesAt === this.version) return;
    this.maxFree.fill(-Infinity);
    this.sumFree.fill(0);
    const n = this.model.nodes.length;
    for (let s = 0; s < n; s++) {
      const base = s * HOST_COUNT;
      for (let c = 0; c < HOST_COUNT; c++) {
        const f = this.nodeFree[base + c] as number;
        if (f > (this.maxFree[c] as number)) this.maxFree[c] = f;
        if (f > 0) this.sumFree[c] = (this.sumFree[c] as number) + f;
      }
    }
    this.aggregatesAt = this.version;
  }
}
