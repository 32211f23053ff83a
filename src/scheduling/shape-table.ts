/**
 * Interned request shapes for the incremental core: each distinct dense vector is stored once and gets an
 * id, found by a hash of its bits (equal vectors, equal bits: `0` and `-0` are different shapes, as in
 * `buildModel`) and checked word by word. Ids are stable while the table lives; the table counts the
 * requests using each shape so the owner can tell when it has grown mostly dead and rebuild it.
 */

/** Shape id → dense vector, with use counts. */
export class ShapeTable {
  /** Shape id → its dense vector (read only; `width` long). */
  readonly vectors: Float64Array[] = [];
  private readonly words: Uint32Array[] = [];
  private readonly uses: number[] = [];
  private readonly byHash = new Map<number, number[]>();
  private live = 0;

  /** @param width - columns per vector (the resource space's size) */
  constructor(readonly width: number) {}

  /** Number of shapes ever interned (ids are `0 … size − 1`). */
  get size(): number {
    return this.vectors.length;
  }

  /** Number of shapes some request uses. */
  get liveCount(): number {
    return this.live;
  }

  /**
   * The id of the vector `source[from … from + width)`, interning a copy when it is new. Does not count a
   * use: see {@link retain}.
   */
  intern(source: Float64Array, from: number): number {
    const width = this.width;
    const sourceWords = new Uint32Array(source.buffer, source.byteOffset + from * 8, width * 2);
    let h = 0x811c9dc5;
    for (let i = 0; i < width * 2; i++) h = Math.imul(h ^ (sourceWords[i] as number), 16777619);
    let candidates = this.byHash.get(h);
    if (candidates !== undefined) {
      for (const id of candidates) {
        const w = this.words[id] as Uint32Array;
        let same = true;
        for (let i = 0; i < width * 2 && same; i++) same = w[i] === sourceWords[i];
        if (same) return id;
      }
    } else {
      candidates = [];
      this.byHash.set(h, candidates);
    }
    const id = this.vectors.length;
    const v = source.slice(from, from + width);
    this.vectors.push(v);
    this.words.push(new Uint32Array(v.buffer));
    this.uses.push(0);
    candidates.push(id);
    return id;
  }

  /** Counts one more use of shape `id`. */
  retain(id: number): void {
    const n = this.uses[id] as number;
    if (n === 0) this.live++;
    this.uses[id] = n + 1;
  }

  /** Counts one use of shape `id` less. */
  release(id: number): void {
    const n = (this.uses[id] as number) - 1;
    this.uses[id] = n;
    if (n === 0) this.live--;
  }
}
