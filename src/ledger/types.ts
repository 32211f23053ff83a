import { DEFAULT_NODE_STALE_MS } from '../admission/constants';
/**
 * Shapes of the resource ledger. A resource vector maps resource names to non-negative quantities; host
 * resources live on nodes, every other name is a cluster-wide custom pool.
 */

/** Host resources, measured per node: `cpu` (cores), `memoryMb` (MiB), `gpu` (devices), `diskIoMBps`, `netMbps`. */
export const HOST_RESOURCES = ['cpu', 'memoryMb', 'gpu', 'diskIoMBps', 'netMbps'] as const;

/** One host resource name. */
export type HostResource = (typeof HOST_RESOURCES)[number];

/** Resource name → non-negative finite quantity (units per resource; custom pools count units). */
export type ResourceVector = Record<string, number>;

/** True for a host resource name (`cpu`, `memoryMb`, `gpu`, `diskIoMBps`, `netMbps`); false for a custom pool. */
export function isHostResource(name: string): name is HostResource {
  return (HOST_RESOURCES as readonly string[]).includes(name);
}

/** Lifecycle of a reservation; see `transition.ts` for the legal moves. */
export type ReservationState = 'pending' | 'granted' | 'running' | 'released' | 'expired' | 'cancelled';

/** States that hold capacity. */
export const ACTIVE_STATES: readonly ReservationState[] = ['granted', 'running'];

/** A node silent longer than this is stale (see the admission constants for why 10 s), ms. */
export const DEFAULT_STALE_AFTER_MS = DEFAULT_NODE_STALE_MS;

/**
 * How commitDecisions keeps `Σ granted ≤ capacity` under concurrency: `row-locks` takes
 * `SELECT … FOR UPDATE` on the node and pool rows a batch touches (READ COMMITTED); `serializable` runs the
 * check at SERIALIZABLE isolation and retries on serialization failures (40001).
 */
export type LockStrategy = 'row-locks' | 'serializable';

/** A registered worker node as stored. */
export interface NodeRecord {
  /** Node id. */
  id: string;
  /** The Temporal task queue its worker polls. */
  taskQueue: string;
  /** Host capacity. */
  capacity: ResourceVector;
  /** Free-form labels (e.g. `{ zone: 'a' }`). */
  labels: Record<string, string>;
  /** First registration. */
  registeredAt: Date;
  /** Last heartbeat (or registration). */
  lastHeartbeat: Date;
  /** Latest measured usage written by the monitor, if any. */
  usage: unknown;
  /** Latest forecast written by the monitor, if any. */
  forecast: unknown;
  /** When usage/forecast were written. */
  usageAt: Date | null;
}

/** A reservation row as stored. */
export interface ReservationRecord {
  /** Idempotency key. */
  key: string;
  /** The requesting workflow. */
  workflowId: string;
  /** Its run id, when known. */
  runId: string | null;
  /** Stage id within the pipeline. */
  stageId: string;
  /** Shard index when this is a shard's reservation. */
  shardIndex: number | null;
  /** Priority 1–10 (10 highest). */
  priority: number;
  /** Importance declared by the request (boosts add to it at scoring time). */
  importance: number;
  /** What the stage would like. */
  desired: ResourceVector;
  /** The least it can run with. */
  minimum: ResourceVector;
  /** What it holds (granted/running) or last held; null before a grant. */
  granted: ResourceVector | null;
  /** Where it holds it. */
  nodeId: string | null;
  /** Current state. */
  state: ReservationState;
  /** When the lease ends unless renewed. */
  leaseExpiresAt: Date | null;
  /** When it was requested. */
  requestedAt: Date;
  /** When it was granted. */
  grantedAt: Date | null;
  /** When it ended (released, expired, cancelled). */
  endedAt: Date | null;
  /** The scheduler's last score. */
  lastScore: number | null;
  /** The scheduler's last score breakdown per factor. */
  scoreBreakdown: Record<string, number> | null;
  /** Why it waits, or how it was placed. */
  reason: string | null;
  /** How it may be split into shards when it cannot fit (migration 003); null when it cannot. */
  shardSpec: ShardSpecRecord | null;
  /**
   * How long the stage usually runs at its desired allocation, in seconds (migration 004); for start-time
   * estimates, never enforced. Null when unknown.
   */
  expectedSeconds: number | null;
  /** The scheduler's order to split this pending request (migration 006); null when none. */
  shardOrder: ShardOrder | null;
  /** The node to place it elsewhere than when another fits (migration 006); null when none. */
  avoidNode: string | null;
  /** Arrival sequence (migration 007): ties between equal scores go to the earlier request. */
  seq: number | null;
  /** When its stage started running on the node (migration 002); null until then. */
  startedAt: Date | null;
  /** The requesting pipeline's definition name (migration 008); null for a request made through the API alone. */
  definitionName: string | null;
  /** That definition's registered version (migration 008); null when not started from the registry. */
  definitionVersion: number | null;
  /** The stage's handler (migration 008); null when the request did not say. */
  handler: string | null;
  /** The stage's attempt number, ≥ 1 (migration 008). */
  attempt: number;
  /** How many shrink offers it accepted (migration 008). */
  shrinks: number;
  /** The start the scheduler last estimated for it while it waited (migration 008); null when none. */
  estimatedStartAt: Date | null;
  /**
   * A successor grant's predecessor (migration 010): the held reservation on the same node whose capacity it
   * takes over when that one ends; it may not start before. Null for every other row (and once promoted).
   */
  behind: string | null;
  /** When a successor grant's predecessor ended and the capacity became its own (migration 010); else null. */
  promotedAt: Date | null;
  /**
   * Its stage key's learned run time, read by a snapshot for a request that declares no `expectedSeconds`
   * (absent elsewhere, and when the key has fewer runs than `LEARNED_MIN_SAMPLES`).
   */
  learned?: LearnedRunTime;
}

/** A stage key's learned run time as a snapshot reads it (`qm_run_estimates`). */
export interface LearnedRunTime {
  /** Seconds at the stage's desired allocation. */
  seconds: number;
  /** Completed runs it is made of. */
  samples: number;
}

/** The scheduler's decision to split a pending request, stored on its row for the waiting requester. */
export interface ShardOrder {
  /** How many shards (0 only for an empty item list). */
  shardCount: number;
  /** What each shard asks for. */
  perShard: ResourceVector;
}

/**
 * How a pending request may be split into shards, as stored with it (`qm_reservations.shard_spec`) and read
 * by the scheduler: the same shape as the scheduling core's `ShardRequestSpec`.
 */
export interface ShardSpecRecord {
  /** Upper bound on the number of shards (integer ≥ 1). */
  maxShards: number;
  /** Items to split for `by: "items"` (integer ≥ 0); absent for `by: "count"`. */
  itemCount?: number;
  /** Smallest slice worth a shard (integer ≥ 1). @default 1 */
  minItemsPerShard?: number;
  /** No shard asks for less than this. @default {} */
  perShardFloor?: ResourceVector;
}

/**
 * A pending offer of a smaller allocation to a held reservation (graceful degradation, migration 005). The
 * ledger frees `from − to` only when the holder accepts it (`acceptShrink`).
 */
export interface ShrinkOfferRecord {
  /** The held reservation. */
  key: string;
  /** Its node. */
  nodeId: string;
  /** What it holds now. */
  from: ResourceVector;
  /** The whole smaller grant offered: the same resource names as `from`, each between minimum and `from`. */
  to: ResourceVector;
  /** The blocked (pending) request the offer is for. */
  forKey: string;
  /** When the offer was made; with `key`, it identifies the offer when it is acknowledged. */
  offeredAt: Date;
}
