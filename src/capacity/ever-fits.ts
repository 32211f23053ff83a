/**
 * Whether a request could *ever* be admitted: some resource it needs at least (its `minimum`, or — for a
 * shardable stage — the smallest slice the shard spec allows) above the largest capacity any registered node
 * (host resources) or the pool (custom resources) has. Such a request used to wait for ever while its
 * reason already said it exceeds every node; admission now fails its stage at once with
 * {@link UnsatisfiableRequestError}, unless the stage says `resources.waitForLargerNodes: true`.
 * Pure and synchronous: the admission activity takes the ceiling from its transaction's ledger snapshot
 * (`capacityCeiling` in `src/ledger/capacity-ceiling.ts`) and calls {@link unsatisfiableResource}.
 */
import { perShardRequest, shardCountRange } from '../sharding/plan';

/** Resource name → quantity. */
export type ResourceVector = Record<string, number>;

/** Host resources (held per node); every other name is a cluster-wide custom pool. */
const HOST_RESOURCES: readonly string[] = ['cpu', 'memoryMb', 'gpu', 'diskIoMBps', 'netMbps'];

/** The largest capacities the cluster has: per host resource over every registered node, and each pool's. */
export interface CapacityCeiling {
  /** Registered nodes (stale ones included: they may come back). With none, nothing is judged unsatisfiable. */
  readonly nodeCount: number;
  /** Host resource → the largest capacity of any registered node (absent: no node has it). */
  readonly largestNode: Readonly<ResourceVector>;
  /** Pool name → its capacity. */
  readonly pools: Readonly<ResourceVector>;
}

/** What admission knows of a request. */
export interface EverFitsRequest {
  /** The least it accepts. */
  readonly minimum: Readonly<ResourceVector>;
  /** The whole `desired` (a shardable request's slices scale it down). */
  readonly desired: Readonly<ResourceVector>;
  /** Its shard spec, when it may be split (as the admission request carries it). */
  readonly shard?: {
    readonly maxShards: number;
    readonly itemCount?: number;
    readonly minItemsPerShard?: number;
    readonly perShardFloor?: Readonly<ResourceVector>;
  };
  /** `resources.waitForLargerNodes`: keep waiting for a larger node. @default false */
  readonly waitForLargerNodes?: boolean;
}

/** The resource that makes a request unsatisfiable. */
export interface UnsatisfiableResource {
  /** Its name. */
  readonly resource: string;
  /** The least the request (or its smallest slice) needs of it. */
  readonly requested: number;
  /** The largest capacity anywhere: the biggest node's, or the pool's (0 when nobody has it). */
  readonly largest: number;
  /** `node` for a host resource, `pool` for a custom one. */
  readonly kind: 'node' | 'pool';
}

/**
 * The first resource (in the request's key order) that no node or pool could ever provide, or `undefined`
 * when the request could be admitted some day (or says it may wait for larger nodes, or no node is registered
 * yet). A shardable request is judged by its smallest slice: `desired` split the most ways the spec allows,
 * never below its per-shard floor. Never throws.
 */
export function unsatisfiableResource(
  request: EverFitsRequest,
  ceiling: CapacityCeiling,
): UnsatisfiableResource | undefined {
  if (request.waitForLargerNodes === true || ceiling.nodeCount === 0) return undefined;
  let need: Readonly<ResourceVector> = request.minimum;
  if (request.shard !== undefined) {
    try {
      const planRequest = { desired: request.desired, ...request.shard };
      const { max } = shardCountRange(planRequest);
      need = max === 0 ? {} : perShardRequest(planRequest, max);
    } catch {
      need = request.minimum; // a malformed spec: judge the whole request
    }
  }
  for (const [resource, requested] of Object.entries(need)) {
    if (!(requested > 0)) continue;
    const kind = HOST_RESOURCES.includes(resource) ? 'node' : 'pool';
    const largest = (kind === 'node' ? ceiling.largestNode[resource] : ceiling.pools[resource]) ?? 0;
    // Same tolerance as the ledger's comparisons.
    if (requested > largest + 1e-9) return { resource, requested, largest, kind };
  }
  return undefined;
}

/**
 * A request no registered node (or pool) could ever hold. The admission activity throws it (mapped onto a
 * non-retryable `ApplicationFailure` of the same type), so the stage fails at once naming the resource and the
 * largest capacity, instead of waiting for ever.
 */
export class UnsatisfiableRequestError extends Error {
  /** Always `'UnsatisfiableRequestError'`. */
  override readonly name = 'UnsatisfiableRequestError';
  /** The resource at fault. */
  readonly resource: string;
  /** What the request needs of it at least. */
  readonly requested: number;
  /** The largest capacity anywhere. */
  readonly largest: number;

  /**
   * @param stageId the stage (for the message)
   * @param problem what {@link unsatisfiableResource} found
   */
  constructor(stageId: string, problem: UnsatisfiableResource) {
    const where =
      problem.kind === 'node'
        ? problem.largest > 0
          ? `the largest node has ${problem.resource}=${problem.largest}`
          : `no registered node has ${problem.resource}`
        : problem.largest > 0
          ? `pool ${problem.resource} has a capacity of ${problem.largest}`
          : `no pool ${problem.resource} is declared`;
    super(
      `stage "${stageId}" needs at least ${problem.resource}=${problem.requested}, but ${where}: no node could ever ` +
        'hold it (lower its minimum, make it shardable, or set resources.waitForLargerNodes: true to wait for a larger node)',
    );
    this.resource = problem.resource;
    this.requested = problem.requested;
    this.largest = problem.largest;
  }
}
