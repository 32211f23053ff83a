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
    path: string | (() => string),
    vector: Readonly<ResourceVector> | undefined,
    out: Float64Array = new Float64Array(this.names.length),
  ): Float64Array {
    if (vector === undefined) return out;
    const at = (): string => (typeof path === 'string' ? path : path());
    if (typeof vector !== 'object' || vector === null) {
      throw new InvalidSnapshotError(at(), vector, 'must be an object of resource name to quantity');
    }
    for (const name in vector) {
      const value = vector[name];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new InvalidSnapshotError(`${at()}.${name}`, value, 'must be a finite number >= 0');
      }
      const col = this.index.get(name);
      if (col === undefined) throw new InvalidSnapshotError(`${at()}.${name}`, value, 'unknown resource');
      out[col] = value;
    }
    return out;
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
  /** Position in {@link CycleModel.nodes} (sorted by id). */
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
  /** Dense desired. */
  readonly desired: Float64Array;
  /** Dense minimum (≤ desired). */
  readonly minimum: Float64Array;
  /** Id of `desired`'s shape (equal vectors share an id), to memoise per shape. */
  readonly desiredShape: number;
  /** Id of `minimum`'s shape (same id space as `desiredShape`). */
  readonly minimumShape: number;
  /** `readySince` in epoch ms. */
  readonly readyMs: number;
}

/** The dense model of one snapshot. */
export interface CycleModel {
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
  /** Pending requests in snapshot order. */
  readonly requests: readonly CompiledRequest[];
  /** Number of distinct request shapes (ids are `0 … shapeCount−1`). */
  readonly shapeCount: number;
}

/** Joins a dense vector into a memo key (a hand-rolled loop: `join` on typed arrays is slow). */
export function signature(v: Float64Array): string {
  let out = '';
  for (let c = 0; c < v.length; c++) out += c === 0 ? String(v[c]) : `,${v[c]}`;
  return out;
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

function checkNumber(path: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidSnapshotError(path, value, `must be a finite number >= ${min}`);
  }
  return value;
}

function checkRequest(path: string, r: PendingRequest): number {
  if (typeof r.key !== 'string' || r.key === '')
    throw new InvalidSnapshotError(`${path}.key`, r.key, 'must be a non-empty string');
  if (typeof r.priority !== 'number' || !Number.isInteger(r.priority) || r.priority < 1 || r.priority > 10) {
    throw new InvalidSnapshotError(`${path}.priority`, r.priority, 'must be an integer 1-10');
  }
  checkNumber(`${path}.importance`, r.importance, 0);
  const readyMs = r.readySince instanceof Date ? r.readySince.getTime() : Number.NaN;
  if (!Number.isFinite(readyMs))
    throw new InvalidSnapshotError(`${path}.readySince`, r.readySince, 'must be a valid Date');
  const s = r.shard;
  if (s !== undefined) {
    if (!Number.isInteger(s.maxShards) || s.maxShards < 1) {
      throw new InvalidSnapshotError(`${path}.shard.maxShards`, s.maxShards, 'must be an integer >= 1');
    }
    if (s.itemCount !== undefined && (!Number.isInteger(s.itemCount) || s.itemCount < 0)) {
      throw new InvalidSnapshotError(`${path}.shard.itemCount`, s.itemCount, 'must be an integer >= 0');
    }
    if (
      s.minItemsPerShard !== undefined &&
      (!Number.isInteger(s.minItemsPerShard) || s.minItemsPerShard < 1)
    ) {
      throw new InvalidSnapshotError(
        `${path}.shard.minItemsPerShard`,
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
  const poolCount = space.size - HOST_COUNT;
  const poolCapacity = new Float64Array(poolCount);
  const poolFree = new Float64Array(poolCount);
  const seenPools = new Set<string>();
  snapshot.pools.forEach((p, i) => {
    if (seenPools.has(p.name)) throw new InvalidSnapshotError(`pools[${i}].name`, p.name, 'duplicate pool');
    seenPools.add(p.name);
    const col = (space.index.get(p.name) as number) - HOST_COUNT;
    poolCapacity[col] = checkNumber(`pools[${i}].capacity`, p.capacity, 0);
    poolFree[col] = poolCapacity[col] - checkNumber(`pools[${i}].granted`, p.granted, 0);
  });

  const seenNodes = new Set<string>();
  const usable: Array<{ view: NodeView; path: string }> = [];
  snapshot.nodes.forEach((n, i) => {
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
  const nodes: NodeSlot[] = usable.map(({ view, path }, slot) => {
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

  // One buffer for every request's vectors: views instead of 2n small allocations.
  const width = space.size;
  const buffer = new Float64Array(snapshot.pending.length * 2 * width);
  const seenKeys = new Set<string>();
  // Shapes are interned by a hash of the vectors' bits (equal vectors, equal bits), checked word by word.
  const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length * 2);
  const byHash = new Map<number, number[]>(); // hash → word offsets of representatives
  const shapeIdAt = new Map<number, number>(); // representative's word offset → shape id
  let shapeCount = 0;
  const shapeOf = (v: Float64Array): number => {
    const from = (v.byteOffset - buffer.byteOffset) / 4;
    const n = v.length * 2;
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (words[from + i] as number), 16777619);
    const candidates = byHash.get(h);
    if (candidates !== undefined) {
      for (const rep of candidates) {
        let same = true;
        for (let i = 0; i < n && same; i++) same = words[rep + i] === words[from + i];
        if (same) return shapeIdAt.get(rep) as number;
      }
      candidates.push(from);
    } else byHash.set(h, [from]);
    shapeIdAt.set(from, shapeCount);
    return shapeCount++;
  };
  const requests: CompiledRequest[] = snapshot.pending.map((request, index) => {
    const path = `pending[${index}]`; // short; the long paths below are built only on error
    const readyMs = checkRequest(path, request);
    if (seenKeys.has(request.key))
      throw new InvalidSnapshotError(`${path}.key`, request.key, 'duplicate request key');
    seenKeys.add(request.key);
    const at = index * 2 * width;
    const desired = space.dense(() => `${path}.desired`, request.desired, buffer.subarray(at, at + width));
    const minimum = space.dense(
      () => `${path}.minimum`,
      request.minimum,
      buffer.subarray(at + width, at + 2 * width),
    );
    for (let c = 0; c < desired.length; c++) {
      if ((minimum[c] as number) > (desired[c] as number)) {
        throw new InvalidSnapshotError(
          `${path}.minimum.${space.names[c] as string}`,
          minimum[c],
          `must not exceed desired (${desired[c]})`,
        );
      }
    }
    if (request.shard?.perShardFloor !== undefined)
      space.dense(`${path}.shard.perShardFloor`, request.shard.perShardFloor);
    return {
      index,
      request,
      desired,
      minimum,
      desiredShape: shapeOf(desired),
      minimumShape: shapeOf(minimum),
      readyMs,
    };
  });
  return { space, nodes, nodeFree, poolCapacity, poolFree, maxCapacity, requests, shapeCount };
}
