/**
 * The cycle's internal, dense form of a {@link ClusterSnapshot}: resource names become column indexes
 * (host resources first, then custom pools), vectors become `Float64Array`s, and every quantity is
 * validated once. Built fresh per cycle; the snapshot itself is only read.
 */
import { InvalidSnapshotError } from './errors';
import {
  HOST_RESOURCE_NAMES,
  type ClusterSnapshot,
  type NodeView,
  type PendingRequest,
  type PoolView,
  type ResourceVector,
} from './types';
import type { SchedulerConfig } from './config';

/** Slack for float sums: `x` fits in `free` when `x ≤ free + EPSILON` (matches the ledger's re-check). */
export const EPSILON = 1e-9;

/** Number of host resource columns (they come first). */
export const HOST_COUNT = HOST_RESOURCE_NAMES.length;

const HOST_INDEX = new Map<string, number>(HOST_RESOURCE_NAMES.map((n, i) => [n, i]));

/** True for a host resource name. */
export function isHostName(name: string): boolean {
  return HOST_INDEX.has(name);
}

/** A bad quantity found by {@link ResourceSpace.fill}: the error is built only when it is thrown. */
export class BadQuantity {
  /**
   * @param name - the offending resource name, or null when the vector itself is not an object
   * @param value - what was found
   * @param problem - what is wrong with it
   */
  constructor(
    readonly name: string | null,
    readonly value: unknown,
    readonly problem: string,
  ) {}

  /** The error naming `path` (and the resource). */
  error(path: string): InvalidSnapshotError {
    return new InvalidSnapshotError(
      this.name === null ? path : `${path}.${this.name}`,
      this.value,
      this.problem,
    );
  }
}

/** Column layout: host resources at `0 … HOST_COUNT−1`, then pools sorted by name. */
export class ResourceSpace {
  /** Column → resource name. */
  readonly names: readonly string[];
  /** Resource name → column. */
  readonly index: ReadonlyMap<string, number>;

  /** @param poolNames - every custom resource name seen (duplicates allowed) */
  constructor(poolNames: Iterable<string>) {
    const pools = [...new Set(poolNames)].filter((n) => !HOST_INDEX.has(n)).sort();
    this.names = [...HOST_RESOURCE_NAMES, ...pools];
    this.index = new Map(this.names.map((n, i) => [n, i]));
  }

  /** Total columns. */
  get size(): number {
    return this.names.length;
  }

  /**
   * A dense copy of `vector` (missing names are 0), written into `out` when given (it must be zeroed and
   * {@link size} long).
   * @throws InvalidSnapshotError naming `path.name` for a negative, non-finite or unknown quantity.
   */
  dense(
    path: string,
    vector: Readonly<ResourceVector> | undefined,
    out: Float64Array = new Float64Array(this.names.length),
  ): Float64Array {
    const bad = this.fill(vector, out);
    if (bad !== null) throw bad.error(path);
    return out;
  }

  /**
   * Writes `vector` into the zeroed `out` from `offset` (missing names are 0) without building any path: the hot loop's
   * form of {@link dense}, which names the field only when something is wrong.
   * @returns null, or what is wrong (turned into an error for a path by `error`).
   */
  fill(vector: Readonly<ResourceVector> | undefined, out: Float64Array, offset = 0): BadQuantity | null {
    if (vector === undefined) return null;
    if (typeof vector !== 'object' || vector === null) {
      return new BadQuantity(null, vector, 'must be an object of resource name to quantity');
    }
    for (const name in vector) {
      const value = vector[name];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return new BadQuantity(name, value, 'must be a finite number >= 0');
      }
      const col = this.index.get(name);
      if (col === undefined) return new BadQuantity(name, value, 'unknown resource');
      out[offset + col] = value;
    }
    return null;
  }

  /** A sparse vector with the names of `keys` (in their order) taken from `dense`. */
  sparse(dense: Float64Array, keys: Readonly<ResourceVector>): ResourceVector {
    const out: ResourceVector = {};
    for (const name in keys) {
      const col = this.index.get(name);
      out[name] = col === undefined ? 0 : (dense[col] ?? 0);
    }
    return out;
  }
}

/** A usable (non-stale) node in dense form. */
export interface NodeSlot {
  /** Position in {@link NodeModel.nodes} (sorted by id). */
  readonly slot: number;
  /** The snapshot's node. */
  readonly view: NodeView;
  /** Host capacity by column (length {@link HOST_COUNT}). */
  readonly capacity: Float64Array;
  /** `1 / capacity` by column, 0 where capacity is 0 (for normalised leftovers). */
  readonly invCapacity: Float64Array;
}

/** A pending request in dense form. */
export interface CompiledRequest {
  /** Index in `snapshot.pending`. */
  readonly index: number;
  /** The snapshot's request. */
  readonly request: PendingRequest;
  /** Dense desired (shared by every request of its shape: read only). */
  readonly desired: Float64Array;
  /** Dense minimum (≤ desired; shared by every request of its shape: read only). */
  readonly minimum: Float64Array;
  /** Id of `desired`'s shape (equal vectors share an id), to memoise per shape. */
  readonly desiredShape: number;
  /** Id of `minimum`'s shape (same id space as `desiredShape`). */
  readonly minimumShape: number;
  /** `readySince` in epoch ms. */
  readonly readyMs: number;
}

/** The dense model of the nodes and pools of one snapshot: what placement, holds and wait reasons read. */
export interface NodeModel {
  /** Column layout. */
  readonly space: ResourceSpace;
  /** Usable nodes, sorted by id. */
  readonly nodes: readonly NodeSlot[];
  /** Effective free per usable node, row-major `[slot · HOST_COUNT + column]`. */
  readonly nodeFree: Float64Array;
  /** Pool capacity by column (index `column − HOST_COUNT`). */
  readonly poolCapacity: Float64Array;
  /** Pool free (`capacity − granted`) by column − HOST_COUNT. */
  readonly poolFree: Float64Array;
  /** Largest capacity of a usable node per host column, then each pool's capacity (for the size factor). */
  readonly maxCapacity: Float64Array;
}

/** The dense model of one snapshot. */
export interface CycleModel extends NodeModel {
  /** Pending requests in snapshot order (built on first use: the cycle reads the arrays below instead). */
  readonly requests: readonly CompiledRequest[];
  /** The snapshot's pending requests (index `i` in the arrays below). */
  readonly pending: readonly PendingRequest[];
  /** Shape id of each request's desired vector. */
  readonly desiredShapes: Int32Array;
  /** Shape id of each request's minimum vector. */
  readonly minimumShapes: Int32Array;
  /** Each request's `readySince`, epoch ms. */
  readonly readyMs: Float64Array;
  /** Each request's `expectedSeconds`, NaN when absent. */
  readonly expectedSeconds: Float64Array;
  /** Each request's `sequence`, `Infinity` when absent (after every given one). */
  readonly sequence: Float64Array;
  /** Shape id → its dense vector (read only). */
  readonly shapeVectors: readonly Float64Array[];
  /** Number of distinct request shapes (ids are `0 … shapeCount−1`). */
  readonly shapeCount: number;
}

/**
 * Effective free of one host resource on a node: `capacity − granted`, and for a monitored resource also
 * at most `capacity − (upper + margin · (upper − value))` of its usage forecast.
 */
export function effectiveFree(
  capacity: number,
  granted: number,
  forecast: { value: number; upper: number } | undefined,
  margin: number,
): number {
  // Never below 0: an overloaded (or undeclared but monitored) resource has nothing to give, and a
  // request that does not ask for it must not be blocked by it.
  const byGrants = capacity - granted;
  if (forecast === undefined) return Math.max(0, byGrants);
  const usage = forecast.upper + margin * Math.max(0, forecast.upper - forecast.value);
  return Math.max(0, Math.min(byGrants, capacity - usage));
}

/**
 * `value` when it is a finite number ≥ `min`.
 * @throws InvalidSnapshotError naming `path` otherwise.
 */
export function checkNumber(path: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidSnapshotError(path, value, `must be a finite number >= ${min}`);
  }
  return value;
}

/** `pending[i]` for an index, else the path itself, for error paths (built only when throwing). */
function pendingPath(index: number | string): string {
  return typeof index === 'number' ? `pending[${index}]` : index;
}

/**
 * Checks a pending request's scalar fields (key, priority, importance, expectedSeconds, sequence,
 * readySince, shard spec; not its vectors).
 * @param index - its index in `snapshot.pending`, or the path to name in errors (e.g. `added[2]`)
 * @returns its `readySince` in epoch ms.
 * @throws InvalidSnapshotError naming the first bad field.
 */
export function checkRequest(index: number | string, r: PendingRequest): number {
  if (typeof r.key !== 'string' || r.key === '')
    throw new InvalidSnapshotError(`${pendingPath(index)}.key`, r.key, 'must be a non-empty string');
  if (typeof r.priority !== 'number' || !Number.isInteger(r.priority) || r.priority < 1 || r.priority > 10) {
    throw new InvalidSnapshotError(`${pendingPath(index)}.priority`, r.priority, 'must be an integer 1-10');
  }
  if (typeof r.importance !== 'number' || !Number.isFinite(r.importance) || r.importance < 0) {
    throw new InvalidSnapshotError(
      `${pendingPath(index)}.importance`,
      r.importance,
      'must be a finite number >= 0',
    );
  }
  const e = r.expectedSeconds;
  if (e !== undefined && (typeof e !== 'number' || !Number.isFinite(e) || e < 0)) {
    throw new InvalidSnapshotError(
      `${pendingPath(index)}.expectedSeconds`,
      e,
      'must be a finite number >= 0',
    );
  }
  const q = r.sequence;
  if (q !== undefined && (typeof q !== 'number' || !Number.isFinite(q))) {
    throw new InvalidSnapshotError(`${pendingPath(index)}.sequence`, q, 'must be a finite number');
  }
  const readyMs = r.readySince instanceof Date ? r.readySince.getTime() : Number.NaN;
  if (!Number.isFinite(readyMs))
    throw new InvalidSnapshotError(`${pendingPath(index)}.readySince`, r.readySince, 'must be a valid Date');
  const s = r.shard;
  if (s !== undefined) {
    if (!Number.isInteger(s.maxShards) || s.maxShards < 1) {
      throw new InvalidSnapshotError(
        `${pendingPath(index)}.shard.maxShards`,
        s.maxShards,
        'must be an integer >= 1',
      );
    }
    if (s.itemCount !== undefined && (!Number.isInteger(s.itemCount) || s.itemCount < 0)) {
      throw new InvalidSnapshotError(
        `${pendingPath(index)}.shard.itemCount`,
        s.itemCount,
        'must be an integer >= 0',
      );
    }
    if (
      s.minItemsPerShard !== undefined &&
      (!Number.isInteger(s.minItemsPerShard) || s.minItemsPerShard < 1)
    ) {
      throw new InvalidSnapshotError(
        `${pendingPath(index)}.shard.minItemsPerShard`,
        s.minItemsPerShard,
        'must be an integer >= 1',
      );
    }
  }
  return readyMs;
}

function addNames(into: string[], v: Readonly<ResourceVector> | undefined): void {
  if (v === undefined || typeof v !== 'object' || v === null) return;
  for (const name in v) if (!HOST_INDEX.has(name)) into.push(name);
}

/**
 * Validates `nodes` and `pools` and builds their dense form in `space` (which must hold every pool name):
 * effective free per usable node (sorted by id), pool capacity and free, and the largest capacities.
 * @throws InvalidSnapshotError naming the first bad field (duplicate node id or pool, bad quantity).
 */
export function buildNodeModel(
  space: ResourceSpace,
  nodes: readonly NodeView[],
  pools: readonly PoolView[],
  config: SchedulerConfig,
): NodeModel {
  const poolCount = space.size - HOST_COUNT;
  const poolCapacity = new Float64Array(poolCount);
  const poolFree = new Float64Array(poolCount);
  const seenPools = new Set<string>();
  pools.forEach((p, i) => {
    if (seenPools.has(p.name)) throw new InvalidSnapshotError(`pools[${i}].name`, p.name, 'duplicate pool');
    seenPools.add(p.name);
    const col = (space.index.get(p.name) as number) - HOST_COUNT;
    poolCapacity[col] = checkNumber(`pools[${i}].capacity`, p.capacity, 0);
    poolFree[col] = poolCapacity[col] - checkNumber(`pools[${i}].granted`, p.granted, 0);
  });

  const seenNodes = new Set<string>();
  const usable: Array<{ view: NodeView; path: string }> = [];
  nodes.forEach((n, i) => {
    const path = `nodes[${i}]`;
    if (typeof n.id !== 'string' || n.id === '')
      throw new InvalidSnapshotError(`${path}.id`, n.id, 'must be a non-empty string');
    if (seenNodes.has(n.id)) throw new InvalidSnapshotError(`${path}.id`, n.id, 'duplicate node id');
    seenNodes.add(n.id);
    if (!n.stale) usable.push({ view: n, path });
  });
  usable.sort((a, b) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0));
  const nodeFree = new Float64Array(usable.length * HOST_COUNT);
  const maxCapacity = new Float64Array(space.size);
  const slots: NodeSlot[] = usable.map(({ view, path }, slot) => {
    const capacity = new Float64Array(HOST_COUNT);
    const invCapacity = new Float64Array(HOST_COUNT);
    for (let c = 0; c < HOST_COUNT; c++) {
      const name = HOST_RESOURCE_NAMES[c] as string;
      const cap = view.capacity[name];
      const capC = cap === undefined ? 0 : checkNumber(`${path}.capacity.${name}`, cap, 0);
      capacity[c] = capC;
      const g = view.granted[name];
      const granted = g === undefined ? 0 : checkNumber(`${path}.granted.${name}`, g, 0);
      const f = view.forecastUsage?.[name];
      if (f !== undefined) {
        checkNumber(`${path}.forecastUsage.${name}.value`, f.value, 0);
        checkNumber(`${path}.forecastUsage.${name}.upper`, f.upper, 0);
      }
      nodeFree[slot * HOST_COUNT + c] = effectiveFree(capC, granted, f, config.forecastSafetyMargin);
      invCapacity[c] = capC > 0 ? 1 / capC : 0;
      if (capC > (maxCapacity[c] ?? 0)) maxCapacity[c] = capC;
    }
    return { slot, view, capacity, invCapacity };
  });
  for (let p = 0; p < poolCount; p++) maxCapacity[HOST_COUNT + p] = poolCapacity[p] ?? 0;
  return { space, nodes: slots, nodeFree, poolCapacity, poolFree, maxCapacity };
}

/**
 * The model of `nodes` and `pools` when only their grants and forecasts changed since `prev` was built from
 * `prevNodes` and `prevPools`: the same node ids in the same order with the same capacity objects, task
 * queues and staleness, and the same pools with the same capacities. Reuses `prev`'s capacities and
 * recomputes free capacity (what every grant and release changes), with `buildNodeModel`'s checks.
 * @returns the model, or null when anything else changed (then build it anew).
 * @throws InvalidSnapshotError naming a bad grant or forecast.
 */
export function refreshNodeModel(
  prev: NodeModel,
  prevNodes: readonly NodeView[],
  nodes: readonly NodeView[],
  prevPools: readonly PoolView[],
  pools: readonly PoolView[],
  config: SchedulerConfig,
): NodeModel | null {
  if (nodes.length !== prevNodes.length || pools.length !== prevPools.length) return null;
  const slotOf = new Map<string, number>();
  for (const slot of prev.nodes) slotOf.set(slot.view.id, slot.slot);
  const nodeFree = new Float64Array(prev.nodeFree.length);
  const slots = prev.nodes.slice();
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i] as NodeView;
    const o = prevNodes[i] as NodeView;
    if (n.id !== o.id || n.capacity !== o.capacity || n.stale !== o.stale || n.taskQueue !== o.taskQueue)
      return null;
    if (n.stale) continue;
    const s = slotOf.get(n.id) as number;
    const prevSlot = prev.nodes[s] as NodeSlot;
    slots[s] = { slot: s, view: n, capacity: prevSlot.capacity, invCapacity: prevSlot.invCapacity };
    for (let c = 0; c < HOST_COUNT; c++) {
      const name = HOST_RESOURCE_NAMES[c] as string;
      const g = n.granted[name];
      const granted = g === undefined ? 0 : checkNumber(`nodes[${i}].granted.${name}`, g, 0);
      const f = n.forecastUsage?.[name];
      if (f !== undefined) {
        checkNumber(`nodes[${i}].forecastUsage.${name}.value`, f.value, 0);
        checkNumber(`nodes[${i}].forecastUsage.${name}.upper`, f.upper, 0);
      }
      nodeFree[s * HOST_COUNT + c] = effectiveFree(
        prevSlot.capacity[c] as number,
        granted,
        f,
        config.forecastSafetyMargin,
      );
    }
  }
  const poolFree = new Float64Array(prev.poolFree.length);
  for (let i = 0; i < pools.length; i++) {
    const p = pools[i] as PoolView;
    const o = prevPools[i] as PoolView;
    if (p.name !== o.name || p.capacity !== o.capacity) return null;
    const col = (prev.space.index.get(p.name) as number) - HOST_COUNT;
    poolFree[col] = (prev.poolCapacity[col] as number) - checkNumber(`pools[${i}].granted`, p.granted, 0);
  }
  return { ...prev, nodes: slots, nodeFree, poolFree };
}

/**
 * Validates `snapshot` and builds its dense model.
 * @throws InvalidSnapshotError naming the first bad field (duplicate node id or request key, bad
 *   quantity, priority out of 1–10, minimum above desired, bad shard spec, invalid date).
 */
export function buildModel(snapshot: ClusterSnapshot, config: SchedulerConfig): CycleModel {
  const poolNames: string[] = [];
  for (const p of snapshot.pools) {
    if (isHostName(p.name))
      throw new InvalidSnapshotError('pools[].name', p.name, 'is a host resource, not a pool');
    poolNames.push(p.name);
  }
  for (const r of snapshot.pending) {
    addNames(poolNames, r.desired);
    addNames(poolNames, r.minimum);
    addNames(poolNames, r.shard?.perShardFloor);
  }
  for (const g of snapshot.running) {
    addNames(poolNames, g.granted);
    addNames(poolNames, g.minimum);
    addNames(poolNames, g.desired);
  }
  const space = new ResourceSpace(poolNames);
  const { nodes, nodeFree, poolCapacity, poolFree, maxCapacity } = buildNodeModel(
    space,
    snapshot.nodes,
    snapshot.pools,
    config,
  );

  // Requests' vectors are interned by shape: each distinct vector is stored once (one view per shape, not
  // two per request), found by a hash of its bits (equal vectors, equal bits) and checked word by word.
  const width = space.size;
  const scratch = new Float64Array(2 * width); // [desired | minimum] of the request being read
  const scratchWords = new Uint32Array(scratch.buffer);
  const shapeVectors: Float64Array[] = [];
  const shapeWords: Uint32Array[] = [];
  const byHash = new Map<number, number[]>(); // hash → shape ids
  const shapeOf = (from: number): number => {
    const n = width * 2; // words
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (scratchWords[from + i] as number), 16777619);
    let candidates = byHash.get(h);
    if (candidates !== undefined) {
      for (const id of candidates) {
        const w = shapeWords[id] as Uint32Array;
        let same = true;
        for (let i = 0; i < n && same; i++) same = w[i] === scratchWords[from + i];
        if (same) return id;
      }
    } else {
      candidates = [];
      byHash.set(h, candidates);
    }
    const id = shapeVectors.length;
    const v = scratch.slice(from / 2, from / 2 + width);
    shapeVectors.push(v);
    shapeWords.push(new Uint32Array(v.buffer));
    candidates.push(id);
    return id;
  };
  const pending = snapshot.pending;
  const n = pending.length;
  const desiredShapes = new Int32Array(n);
  const minimumShapes = new Int32Array(n);
  const readyMs = new Float64Array(n);
  const expectedSeconds = new Float64Array(n);
  const sequence = new Float64Array(n);
  const seenKeys = new Set<string>();
  for (let index = 0; index < n; index++) {
    const request = pending[index] as PendingRequest;
    readyMs[index] = checkRequest(index, request);
    expectedSeconds[index] = request.expectedSeconds ?? Number.NaN;
    sequence[index] = request.sequence ?? Infinity;
    if (seenKeys.has(request.key))
      throw new InvalidSnapshotError(`pending[${index}].key`, request.key, 'duplicate request key');
    seenKeys.add(request.key);
    scratch.fill(0);
    const badDesired = space.fill(request.desired, scratch, 0);
    if (badDesired !== null) throw badDesired.error(`pending[${index}].desired`);
    const badMinimum = space.fill(request.minimum, scratch, width);
    if (badMinimum !== null) throw badMinimum.error(`pending[${index}].minimum`);
    let same = true; // minimum = desired, the common case: one shape, one lookup
    for (let c = 0; c < width; c++) {
      if ((scratch[width + c] as number) !== (scratch[c] as number)) same = false;
      if ((scratch[width + c] as number) > (scratch[c] as number)) {
        throw new InvalidSnapshotError(
          `pending[${index}].minimum.${space.names[c] as string}`,
          scratch[width + c],
          `must not exceed desired (${scratch[c]})`,
        );
      }
    }
    if (request.shard?.perShardFloor !== undefined)
      space.dense(`pending[${index}].shard.perShardFloor`, request.shard.perShardFloor);
    const desiredShape = shapeOf(0);
    desiredShapes[index] = desiredShape;
    minimumShapes[index] = same ? desiredShape : shapeOf(width * 2);
  }
  let requests: CompiledRequest[] | undefined;
  return {
    space,
    nodes,
    nodeFree,
    poolCapacity,
    poolFree,
    maxCapacity,
    get requests(): readonly CompiledRequest[] {
      requests ??= pending.map((request, index) => {
        const desiredShape = desiredShapes[index] as number;
        const minimumShape = minimumShapes[index] as number;
        return {
          index,
          request,
          desired: shapeVectors[desiredShape] as Float64Array,
          minimum: shapeVectors[minimumShape] as Float64Array,
          desiredShape,
          minimumShape,
          readyMs: readyMs[index] as number,
        };
      });
      return requests;
    },
    pending,
    desiredShapes,
    minimumShapes,
    readyMs,
    expectedSeconds,
    sequence,
    shapeVectors,
    shapeCount: shapeVectors.length,
  };
}
