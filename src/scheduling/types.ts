/**
 * Inputs and outputs of one scheduling cycle, independent of the database. The ledger's snapshot
 * (`src/ledger/snapshot.ts`) and the monitor's published forecast (`NodeSnapshot.forecast[horizon]` in
 * `src/monitor/node-forecaster.ts`) map onto these shapes field by field; the simulator builds them directly.
 */

/** Resource name → non-negative finite quantity (same shape as the ledger's `ResourceVector`). */
export type ResourceVector = Record<string, number>;

/**
 * Host resources, measured per node: `cpu` (cores), `memoryMb` (MiB), `gpu` (devices), `diskIoMBps`
 * (MiB/s), `netMbps` (Mbit/s). Every other resource name is a cluster-wide custom pool. Mirrors
 * `HOST_RESOURCES` in `src/ledger/types.ts` (a unit test keeps them equal); repeated here so the pure core
 * imports nothing from the ledger.
 */
export const HOST_RESOURCE_NAMES = ['cpu', 'memoryMb', 'gpu', 'diskIoMBps', 'netMbps'] as const;

/**
 * One forecast of a node's *usage* of a resource: a structural subset of the monitor's `Forecast`
 * (`{ value, lower, upper }`), in the resource's unit. The scheduler plans on `upper`.
 */
export interface UsageForecast {
  /** The expected usage. */
  readonly value: number;
  /** The pessimistic-high edge of the band (≥ `value`). */
  readonly upper: number;
}

/**
 * Forecast usage per resource at the horizon the caller chose (e.g. `NodeSnapshot.forecast['10']`).
 * Resources without an entry are not monitored: only their grants count.
 */
export type ForecastUsage = { readonly [resource: string]: UsageForecast | undefined };

/** A worker node as the cycle sees it. */
export interface NodeView {
  /** Node id (unique). */
  readonly id: string;
  /** The Temporal task queue its worker polls; a grant tells the stage to run there. */
  readonly taskQueue: string;
  /** Host capacity per host resource; a missing resource counts as 0. Non-host names are ignored. */
  readonly capacity: Readonly<ResourceVector>;
  /** Σ granted per host resource by active reservations on the node. */
  readonly granted: Readonly<ResourceVector>;
  /** Forecast usage (external load included) at `t + horizon`; absent when the node has no monitor data. */
  readonly forecastUsage?: ForecastUsage;
  /** Silent too long: nothing new is granted on it. */
  readonly stale: boolean;
}

/** A cluster-wide custom pool (`db-connections`, `license:matlab`). */
export interface PoolView {
  /** Pool (resource) name; never a host resource name. */
  readonly name: string;
  /** Declared capacity (units). */
  readonly capacity: number;
  /** Σ granted by active reservations (units). */
  readonly granted: number;
}

/** How a blocked request may be split into shards (from the stage's validated `ShardSpec`). */
export interface ShardRequestSpec {
  /** Upper bound on the number of shards (integer ≥ 1). */
  readonly maxShards: number;
  /** Number of items for `by: "items"` (integer ≥ 0); absent for `by: "count"`. */
  readonly itemCount?: number;
  /** Smallest slice worth a shard (`by: "items"`, integer ≥ 1). @default 1 */
  readonly minItemsPerShard?: number;
  /** No shard asks for less than this (the spec's per-shard `resources.minimum`). @default {} */
  readonly perShardFloor?: Readonly<ResourceVector>;
}

/** A pending reservation request. */
export interface PendingRequest {
  /** Idempotency key of the reservation (unique in a snapshot). */
  readonly key: string;
  /** The requesting workflow. */
  readonly workflowId: string;
  /** Stage id within the pipeline. */
  readonly stageId: string;
  /** Shard index when this is a shard's own request; `null` otherwise. */
  readonly shardIndex: number | null;
  /** Integer 1 (lowest) – 10 (highest). */
  readonly priority: number;
  /** Base importance plus active, unexpired boosts, summed by the caller (finite, ≥ 0). */
  readonly importance: number;
  /** The allocation it would like. */
  readonly desired: Readonly<ResourceVector>;
  /** The least it accepts: every key ≤ the same key of `desired` (a missing key counts as 0). */
  readonly minimum: Readonly<ResourceVector>;
  /**
   * When the stage became ready (its dependencies done); age counts from here. A shard's request carries its
   * stage's `readySince`, so a stage that waited and was then split keeps its place.
   */
  readonly readySince: Date;
  /**
   * A node to place it elsewhere than whenever another node fits (the node that just lost this stage: its
   * worker died or never picked the stage up). Used only when nothing else fits.
   */
  readonly avoidNodeId?: string;
  /**
   * Arrival sequence (e.g. the ledger row's serial id): breaks ties between equal scores and equal
   * `readySince`, before `shardIndex`; the key string decides only when both are absent or equal. Finite.
   */
  readonly sequence?: number;
  /** Present when the stage is shardable. */
  readonly shard?: ShardRequestSpec;
  /**
   * Expected run time in seconds at `desired` (the stage's `expectedSeconds`; a smaller CPU allocation
   * stretches it in proportion). Absent: unknown — the request never backfills into a hold and start
   * estimates assume it keeps what it takes.
   */
  readonly expectedSeconds?: number;
  /**
   * Where `expectedSeconds` comes from: `declared` by the stage, or `learned` from its stage key's history
   * (the ledger's snapshot fills a learned one in for a stage that declares none). Informational only: the
   * core treats both alike (backfill, holds, start estimates). @default 'declared' when `expectedSeconds` is set
   */
  readonly expectedSource?: 'declared' | 'learned';
  /** For a learned `expectedSeconds`: how many completed runs it is made of. */
  readonly expectedSamples?: number;
}

/** A granted or running reservation: a candidate for graceful degradation. */
export interface RunningGrant {
  /** Reservation key. */
  readonly key: string;
  /** Node it holds capacity on. */
  readonly nodeId: string;
  /** What it holds now (host resources on the node, pool resources cluster-wide). */
  readonly granted: Readonly<ResourceVector>;
  /** The least it accepts. */
  readonly minimum: Readonly<ResourceVector>;
  /** What it asked for. */
  readonly desired: Readonly<ResourceVector>;
  /** Integer 1–10. */
  readonly priority: number;
  /** Importance (base + boosts), ≥ 0. */
  readonly importance: number;
  /**
   * When it is expected to end and release its grant (granted at + expected run time). Absent: unknown —
   * no projection counts on it releasing.
   */
  readonly expectedEndAt?: Date;
  /** Whether `expectedEndAt` comes from a declared or a learned run time (informational). */
  readonly expectedSource?: 'declared' | 'learned';
}

/** Everything one cycle needs, read consistently at one instant. Never mutated by the core. */
export interface ClusterSnapshot {
  /** Worker nodes (order is irrelevant; ties break by id). */
  readonly nodes: readonly NodeView[];
  /** Custom pools. A custom resource without a pool has capacity 0. */
  readonly pools: readonly PoolView[];
  /** Pending requests (order is irrelevant). */
  readonly pending: readonly PendingRequest[];
  /** Granted and running reservations (used by `degrade`; their grants are already in `NodeView.granted`). */
  readonly running: readonly RunningGrant[];
  /**
   * Keys of the requests that held capacity in the previous cycle (`CycleResult.holds`), for stable holds
   * (`SchedulerOptions.holdSwitchMargin`). Absent: none (the top blocked requests hold).
   */
  readonly holders?: readonly string[];
}

/** Each factor's weighted contribution to a score; they sum to the score. */
export interface ScoreBreakdown {
  /** `weights.priority · (priority − 1) / 9`. */
  readonly priority: number;
  /** `weights.importance · importance / (importance + importanceHalfSaturation)`. */
  readonly importance: number;
  /** `weights.fit ·` the fraction of `desired` the best node's predicted free capacity covers. */
  readonly fit: number;
  /** `weights.age · min(1, waitSeconds / ageSaturationSeconds)`. */
  readonly age: number;
  /** `weights.size · (1 − dominant share of desired in the largest node / pool)`. */
  readonly size: number;
}

/** A score and why. */
export interface ScoreResult {
  /** Σ of the breakdown; higher is scheduled first. */
  readonly score: number;
  /** Weighted contribution per factor. */
  readonly breakdown: ScoreBreakdown;
}

/**
 * Why a request waits. `code`: `capacity` — no node has the resource free (on the best node);
 * `pool` — a custom pool is short; `held` — it would fit, but a higher-scored request holds that
 * capacity (backfill hold); `no-nodes` — no node is usable (none registered or all stale).
 */
export interface WaitReason {
  /** The kind of shortage. */
  readonly code: 'capacity' | 'pool' | 'held' | 'no-nodes';
  /** The short resource; `null` for `no-nodes`. */
  readonly resource: string | null;
  /** How much of it the request needs at least (its minimum), in the resource's unit. */
  readonly needed: number;
  /** How much is free where it came closest (best node, or the pool), in the resource's unit. */
  readonly bestFree: number;
  /** The best node, for host resources. */
  readonly nodeId?: string;
  /** True when `needed` exceeds the capacity of every usable node (or the pool): it can never fit unsplit. */
  readonly exceedsCapacity: boolean;
  /** For `held`: the key of the request holding the capacity. */
  readonly heldBy?: string;
  /** Rendered, e.g. `cpu: needs 4, best node n1 has 2.5 free`. */
  readonly message: string;
}

/** Capacity a blocked request holds in this cycle so lower-scored requests only backfill around it. */
export interface Hold {
  /** The holding request. */
  readonly key: string;
  /** Node whose capacity is held. */
  readonly nodeId: string;
  /** Held quantities (host resources on the node, pool resources cluster-wide). */
  readonly held: ResourceVector;
  /**
   * When the holder is projected to fit on its node: the earliest time its minimum fits there once running
   * grants end as expected (`expectedEndAt`; this cycle's grants end after their `expectedSeconds`).
   * Requests that will have finished by then may use the held capacity (backfill). `null` when that
   * depends on a grant of unknown end: then nothing backfills into the hold.
   */
  readonly startsAt: Date | null;
}

/** Admit on a node: the full `desired`, or (`reduced`) an allocation between minimum and desired. */
export interface GrantDecision {
  /** Discriminant. */
  readonly kind: 'grant';
  /** Reservation key. */
  readonly key: string;
  /** Node to run on. */
  readonly nodeId: string;
  /** That node's task queue. */
  readonly taskQueue: string;
  /** The allocation (every key of `desired`). */
  readonly granted: ResourceVector;
  /** True when `granted` is below `desired` (a soft-reservation offer). */
  readonly reduced: boolean;
  /**
   * A successor grant ({@link assignSuccessors}): the key of the held reservation on the same node whose
   * capacity this one takes over when it ends; the stage may not start before. Absent: granted on free capacity.
   */
  readonly behind?: string;
}

/**
 * Split the stage into `shardCount` shards, each requesting `perShard` (each shard then asks on its own):
 * the smallest count whose slices all fit at once, else the smallest of which at least one fits now.
 */
export interface ShardDecision {
  /** Discriminant. */
  readonly kind: 'shard';
  /** Reservation key. */
  readonly key: string;
  /** Number of shards (0 only for an empty item list: nothing to run, reduce over no results). */
  readonly shardCount: number;
  /** What each shard should request (the largest slice's share of `desired`, never below the floor). */
  readonly perShard: ResourceVector;
  /** Where the trial placed the slices that fit now (advisory; each shard is scheduled on its own). */
  readonly placements: ReadonlyArray<{ readonly nodeId: string; readonly count: number }>;
  /**
   * Slices that fit now: `shardCount` when all run at once; fewer when no count up to `maxShards` fits at
   * once and the rest run in waves. Their capacity is set aside for the rest of the cycle.
   */
  readonly concurrent: number;
}

/** Not now; `reason` says why. `hold` is set when this request holds capacity (the top blocked one). */
export interface WaitDecision {
  /** Discriminant. */
  readonly kind: 'wait';
  /** Reservation key. */
  readonly key: string;
  /** Why. */
  readonly reason: WaitReason;
  /** The capacity it holds, when it is among the top `maxHolds` blocked requests. */
  readonly hold?: Hold;
}

/** One request's outcome. */
export type Decision = GrantDecision | ShardDecision | WaitDecision;

/** One row of the ranked queue (like Slurm's `sprio` + `squeue`). */
export interface RankedEntry {
  /** 1-based rank in score order. */
  readonly rank: number;
  /** Reservation key. */
  readonly key: string;
  /** Requesting workflow. */
  readonly workflowId: string;
  /** Stage id. */
  readonly stageId: string;
  /** Shard index or `null`. */
  readonly shardIndex: number | null;
  /** 1–10. */
  readonly priority: number;
  /** Base + boosts. */
  readonly importance: number;
  /** The score. */
  readonly score: number;
  /** Weighted contribution per factor. */
  readonly breakdown: ScoreBreakdown;
  /** The decision's kind. */
  readonly decision: Decision['kind'];
  /** Human-readable: where it was granted, how it was sharded, or why it waits. */
  readonly reason: string;
}

/** What a cycle decided. */
export interface CycleResult {
  /** One decision per pending request, in rank order. */
  readonly decisions: Decision[];
  /** The ranked queue, in rank order. */
  readonly queue: RankedEntry[];
  /** Holds placed this cycle (also on their wait decisions). */
  readonly holds: Hold[];
}
