/**
 * The incremental scheduling core: `runCycle`'s decisions without rebuilding, re-scoring and re-sorting every
 * pending request per cycle. It keeps the pending requests compiled and grouped into classes that stay in
 * order as time passes (see `request-class.ts`), takes deltas (arrivals, departures, changed requests,
 * nodes, pools, running grants, holders) and runs cycles by merging the classes (see `cycle-walk.ts`). How
 * the state works and its invariants: `src/scheduling/README.md`. Pure and synchronous; time is an argument.
 *
 * @example
 * const core = new IncrementalCycle(config);
 * core.apply({ nodes, pools, add: [request] });
 * const full = core.run(now); // equal to runCycle(the same snapshot, now, config)
 * core.apply({ remove: [request.key], nodes: nodesAfterGrant, running: [grant] });
 * const changes = core.runChanges(later); // grants, shards and holds only
 */
import type { Release } from './backfill';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config';
import { CycleWalk, WalkBuffers } from './cycle-walk';
import { InvalidSnapshotError, StaleCycleResultError } from './errors';
import type { CycleChanges, CycleDelta } from './incremental-types';
import { buildNodeModel, isHostName, refreshNodeModel, ResourceSpace, type NodeModel } from './model';
import type { Placed } from './placer';
import { rankedEntry } from './queue-row';
import type { RequestClass } from './request-class';
import { RequestTable, type CompiledPending } from './request-table';
import { RunningSet } from './running-set';
import type {
  ClusterSnapshot,
  CycleResult,
  Decision,
  Hold,
  NodeView,
  PendingRequest,
  PoolView,
  RankedEntry,
  ResourceVector,
  RunningGrant,
} from './types';

/** How the paths of errors name a delta's items. */
interface DeltaPaths {
  readonly add: (i: number) => string;
  readonly update: (i: number) => string;
  readonly running: (i: number) => string;
}

const DELTA_PATHS: DeltaPaths = {
  add: (i) => `add[${i}]`,
  update: (i) => `update[${i}]`,
  running: (i) => `running[${i}]`,
};

function addNames(into: string[], v: Readonly<ResourceVector> | undefined): void {
  if (v === undefined || typeof v !== 'object' || v === null) return;
  for (const name in v) if (!isHostName(name)) into.push(name);
}

const NONE: ReadonlySet<string> = new Set();

/** The scheduling cycle, kept across calls. Not safe to share between concurrent callers. */
export class IncrementalCycle {
  private space = new ResourceSpace([]);
  private table: RequestTable;
  private nodes: readonly NodeView[] = [];
  private pools: readonly PoolView[] = [];
  private model: NodeModel;
  private slotOfNode: Map<string, number> | undefined;
  private running = new RunningSet();
  private holders: readonly string[] = [];
  private stamp = 0;
  private version = 0;
  private readonly buffers = new WalkBuffers();

  /** @param config - compiled config; @default DEFAULT_SCHEDULER_CONFIG */
  constructor(readonly config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG) {
    this.table = new RequestTable(this.space, config);
    this.model = buildNodeModel(this.space, [], [], config);
  }

  /** Number of pending requests. */
  get pendingCount(): number {
    return this.table.size;
  }

  /** Whether `key` is pending. */
  has(key: string): boolean {
    return this.table.slotOf.has(key);
  }

  /**
   * Applies a delta (see {@link CycleDelta} for the order). Validated whole first: on a throw nothing changed.
   * @throws InvalidSnapshotError naming the bad item (e.g. `add[2].priority`, `remove[0]` not pending,
   *   `add[1].key` duplicate), with the same checks as `runCycle`'s snapshot validation.
   */
  apply(delta: CycleDelta): void {
    this.applyWith(delta, DELTA_PATHS);
  }

  /**
   * Makes the state equal to `snapshot` (the delta is found by key; unchanged request objects cost a map
   * lookup), so that {@link run} then returns what `runCycle(snapshot, now, config)` returns.
   * @throws InvalidSnapshotError for a malformed snapshot, naming `pending[i]`, `running[i]`, `nodes[i]`.
   */
  sync(snapshot: ClusterSnapshot): void {
    const index = new Map<PendingRequest, number>();
    const add: PendingRequest[] = [];
    const update: PendingRequest[] = [];
    const seen = new Set<string>();
    snapshot.pending.forEach((r, i) => {
      index.set(r, i);
      if (seen.has(r.key))
        throw new InvalidSnapshotError(`pending[${i}].key`, r.key, 'duplicate request key');
      seen.add(r.key);
      const slot = this.table.slotOf.get(r.key);
      if (slot === undefined) add.push(r);
      else if (this.table.requests[slot] !== r) update.push(r);
    });
    const remove = [...this.table.slotOf.keys()].filter((k) => !seen.has(k));
    const pendingPath = (list: readonly PendingRequest[]) => (i: number) =>
      `pending[${index.get(list[i] as PendingRequest) ?? i}]`;
    this.applyWith(
      {
        nodes: snapshot.nodes,
        pools: snapshot.pools,
        remove,
        update,
        add,
        runningEnded: [...this.running.keys()],
        running: snapshot.running,
        holders: snapshot.holders ?? [],
      },
      { add: pendingPath(add), update: pendingPath(update), running: (i) => `running[${i}]` },
    );
  }

  private applyWith(delta: CycleDelta, paths: DeltaPaths): void {
    const config = this.config;
    // 1. New resource names → a new column layout (rare): everything is recompiled in it.
    const names: string[] = [];
    for (const p of delta.pools ?? []) {
      if (isHostName(p.name))
        throw new InvalidSnapshotError('pools[].name', p.name, 'is a host resource, not a pool');
      names.push(p.name);
    }
    for (const list of [delta.add, delta.update]) {
      for (const r of list ?? []) {
        addNames(names, r.desired);
        addNames(names, r.minimum);
        addNames(names, r.shard?.perShardFloor);
      }
    }
    for (const g of delta.running ?? []) {
      addNames(names, g.granted);
      addNames(names, g.minimum);
      addNames(names, g.desired);
    }
    let fresh = false;
    for (const n of names) if (!this.space.index.has(n)) fresh = true;
    const space = fresh ? new ResourceSpace([...this.space.names, ...names]) : this.space;
    const rebuild = fresh || this.table.wasteful;

    // 2. Validate everything before changing anything.
    const nodes = delta.nodes ?? this.nodes;
    const pools = delta.pools ?? this.pools;
    const model =
      delta.nodes === undefined && delta.pools === undefined && !fresh
        ? this.model
        : ((fresh ? null : refreshNodeModel(this.model, this.nodes, nodes, this.pools, pools, config)) ??
          buildNodeModel(space, nodes, pools, config));
    const removed = delta.remove === undefined || delta.remove.length === 0 ? NONE : new Set<string>();
    (delta.remove ?? []).forEach((key, i) => {
      if (!this.table.slotOf.has(key) || removed.has(key))
        throw new InvalidSnapshotError(`remove[${i}]`, key, 'not pending');
      (removed as Set<string>).add(key);
    });
    const table = rebuild ? new RequestTable(space, config) : this.table;
    const updates = (delta.update ?? []).map((r, i) => {
      const c = table.compile(r, paths.update(i));
      if (!this.table.slotOf.has(r.key) || removed.has(r.key))
        throw new InvalidSnapshotError(`${paths.update(i)}.key`, r.key, 'not pending');
      return c;
    });
    const updated = updates.length === 0 ? NONE : new Set(updates.map((c) => c.request.key));
    if (updated.size !== updates.length)
      throw new InvalidSnapshotError('update[].key', [...updated], 'duplicate request key');
    const adds = (delta.add ?? []).map((r, i) => {
      const c = table.compile(r, paths.add(i));
      if ((this.table.slotOf.has(r.key) && !removed.has(r.key)) || updated.has(r.key))
        throw new InvalidSnapshotError(`${paths.add(i)}.key`, r.key, 'duplicate request key');
      return c;
    });
    const added = adds.length === 0 ? NONE : new Set(adds.map((c) => c.request.key));
    if (added.size !== adds.length) {
      const dup = adds.findIndex((c, i) => adds.findIndex((d) => d.request.key === c.request.key) !== i);
      throw new InvalidSnapshotError(
        `${paths.add(dup)}.key`,
        (adds[dup] as CompiledPending).request.key,
        'duplicate request key',
      );
    }
    const runningEntries = (delta.running ?? []).map((g, i) =>
      this.compileRunning(space, g, paths.running(i)),
    );

    // 3. Change.
    if (rebuild) {
      for (const r of this.table.requests) {
        if (r === undefined || removed.has(r.key) || updated.has(r.key)) continue;
        table.insert(table.compile(r, `pending[${r.key}]`));
      }
      const running = new RunningSet();
      for (const e of this.running.values()) {
        const c = this.compileRunning(space, e.grant, e.grant.key);
        running.set(c.grant, c.vector, c.endMs);
      }
      this.running = running;
    } else {
      for (const key of removed) table.remove(key);
      for (const key of updated) table.remove(key);
    }
    for (const c of updates) table.insert(c);
    for (const c of adds) table.insert(c);
    for (const key of delta.runningEnded ?? []) this.running.delete(key);
    for (const e of runningEntries) this.running.set(e.grant, e.vector, e.endMs);
    if (delta.holders !== undefined) this.holders = [...delta.holders];
    if (model !== this.model) this.slotOfNode = undefined;
    this.space = space;
    this.table = table;
    this.nodes = nodes;
    this.pools = pools;
    this.model = model;
    this.version++;
  }

  private compileRunning(
    space: ResourceSpace,
    g: RunningGrant,
    path: string,
  ): { grant: RunningGrant; vector: Float64Array; endMs: number } {
    const vector = space.dense(`${path}.granted`, g.granted);
    let endMs = Number.NaN;
    if (g.expectedEndAt !== undefined) {
      endMs = g.expectedEndAt instanceof Date ? g.expectedEndAt.getTime() : Number.NaN;
      if (!Number.isFinite(endMs))
        throw new InvalidSnapshotError(`${path}.expectedEndAt`, g.expectedEndAt, 'must be a valid Date');
    }
    return { grant: g, vector, endMs };
  }

  /** Capacity returning at known times (as `runningReleases` computes it), already in order of their ends. */
  private releases(nowMs: number): Release[] {
    if (this.config.maxHolds === 0) return [];
    const slots = (this.slotOfNode ??= new Map(this.model.nodes.map((n) => [n.view.id, n.slot])));
    return this.running.releases(nowMs, (id) => slots.get(id) ?? -1);
  }

  private walk(now: Date, texts: boolean): CycleWalk {
    this.version++;
    const nowMs = now.getTime();
    const walk = new CycleWalk(
      this.table,
      this.model,
      this.releases(nowMs),
      this.holders,
      this.config,
      nowMs,
      ++this.stamp,
      texts,
      this.buffers,
    );
    walk.walk();
    return walk;
  }

  /**
   * Runs one cycle at `now` over the current state with the full output: every decision and queue row,
   * equal to `runCycle` on the equivalent snapshot. The decisions are found as in {@link runChanges}; the
   * rank order is then a merge of the classes: O(n log classes) for the output.
   * @returns decisions and the ranked queue, both in rank order, and the holds placed.
   */
  run(now: Date): CycleResult {
    const walk = this.walk(now, true);
    const t = this.table;
    const placedInOrder: Array<Placed | null> = [];
    const order = walk.rankOrder(Infinity, () => true, placedInOrder);
    const n = order.length;
    const decisions = new Array<Decision>(n);
    const queue = new Array<RankedEntry>(n);
    const holdRanks: number[] = [];
    const w = walk.placer;
    for (let rank = 0; rank < n; rank++) {
      const slot = order[rank] as number;
      const req = t.requests[slot] as PendingRequest;
      const cls = t.classOf[slot] as RequestClass;
      const placed = placedInOrder[rank] as Placed | null;
      let decision: Decision;
      let text: string;
      if (placed !== null) {
        decision = placed.decision;
        text = placed.text;
        if (decision.kind === 'wait' && decision.hold !== undefined) holdRanks.push(rank);
      } else {
        const reason = w.reasonFor(t.minimumShape[slot] as number);
        decision = { kind: 'wait', key: req.key, reason };
        text = reason.message;
      }
      decisions[rank] = decision;
      const fit = walk.fitWeighted[cls.desiredShape] as number;
      const size = walk.sizeWeighted[cls.desiredShape] as number;
      const age = walk.age(slot);
      queue[rank] = rankedEntry(
        rank,
        req,
        cls.priorityImportance + fit + age + size,
        { priority: cls.priorityWeighted, importance: cls.importanceWeighted, fit, age, size },
        decision.kind,
        text,
      );
    }
    const holds = w.finalHolds();
    holdRanks.forEach((rank, i) => {
      const d = decisions[rank] as Decision & { kind: 'wait' };
      decisions[rank] = { ...d, hold: holds[i] as Hold };
    });
    return { decisions, queue, holds };
  }

  /**
   * Runs one cycle at `now` and returns only what is not a plain wait (grants, shards, holders), with lazy
   * access to wait reasons and the waiting order. The same decisions as {@link run}, but phase 3 visits only
   * requests that can change their answer: O(classes · log classes + decisions) in the steady state.
   */
  runChanges(now: Date): CycleChanges {
    const walk = this.walk(now, false);
    const t = this.table;
    const decisions: Decision[] = [];
    const holdAt: number[] = [];
    walk.placed.forEach((p) => {
      if (p === null) return;
      if (p.decision.kind === 'wait' && p.decision.hold !== undefined) holdAt.push(decisions.length);
      decisions.push(p.decision);
    });
    let decided: Map<number, Placed> | undefined; // slot → decision, built when first asked
    const placedOf = (slot: number): Placed | undefined => {
      if (decided === undefined) {
        decided = new Map();
        for (let k = 0; k < walk.visited.length; k++) {
          const p = walk.placed[k] as Placed | null;
          if (p !== null) decided.set(walk.visited[k] as number, p);
        }
      }
      return decided.get(slot);
    };
    const holds = walk.placer.finalHolds();
    holdAt.forEach((at, i) => {
      const d = decisions[at] as Decision & { kind: 'wait' };
      decisions[at] = { ...d, hold: holds[i] as Hold };
    });
    const version = this.version;
    const check = (): void => {
      if (this.version !== version) throw new StaleCycleResultError();
    };
    return {
      decisions,
      holds,
      waitReason: (key) => {
        check();
        const slot = t.slotOf.get(key);
        if (slot === undefined) return undefined;
        const p = placedOf(slot);
        if (p !== undefined) return p.decision.kind === 'wait' ? p.decision.reason : undefined;
        return walk.placer.reasonFor(t.minimumShape[slot] as number);
      },
      waitingKeys: (limit) => {
        check();
        const waiting = (slot: number, p: Placed | null): boolean => p === null || p.decision.kind === 'wait';
        return walk.rankOrder(limit, waiting).map((s) => (t.requests[s] as PendingRequest).key);
      },
    };
  }
}
