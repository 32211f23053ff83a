/**
 * The simulator's side of the incremental scheduling core: what changed in the simulated ledger since the
 * last cycle (requests arriving and leaving, runs starting, shrinking and ending), buffered and handed to an
 * {@link IncrementalCycle} as one delta right before the next cycle, so a cycle costs what changed, not what
 * is pending. The core then sees exactly the snapshot the simulator would have built.
 */
import { IncrementalCycle } from '../scheduling/incremental-cycle';
import type { CycleChanges } from '../scheduling/incremental-types';
import type { NodeView, PendingRequest, PoolView, RunningGrant, SchedulerConfig } from '../scheduling';

/** Buffers the simulated ledger's changes for the core. */
export class CoreFeed {
  private readonly core: IncrementalCycle;
  private readonly added = new Map<string, PendingRequest>();
  private readonly removed = new Set<string>();
  private readonly updated = new Map<string, PendingRequest>();
  private readonly started = new Map<string, RunningGrant>();
  private readonly ended = new Set<string>();

  /** @param config - the policy's compiled config */
  constructor(config: SchedulerConfig) {
    this.core = new IncrementalCycle(config);
  }

  /** A request reached the scheduler. */
  add(request: PendingRequest): void {
    this.added.set(request.key, request);
  }

  /** A request left (granted or sharded). */
  remove(key: string): void {
    if (this.added.delete(key)) return;
    this.updated.delete(key);
    this.removed.add(key);
  }

  /** A pending request is now seen differently (its importance, with boosts). */
  update(request: PendingRequest): void {
    if (this.added.has(request.key)) this.added.set(request.key, request);
    else this.updated.set(request.key, request);
  }

  /** A run started or changed (a shrink moved its expected end): by key, keeping its place. */
  run(grant: RunningGrant): void {
    this.started.set(grant.key, grant);
  }

  /** A run ended. */
  end(key: string): void {
    this.started.delete(key);
    this.ended.add(key);
  }

  /**
   * Hands the buffered changes, the current nodes, pools and holders to the core and runs a cycle.
   * @returns the changes-only result (valid until the next call).
   * @throws InvalidSnapshotError for a malformed request or grant (a simulator bug).
   */
  cycle(
    now: Date,
    nodes: readonly NodeView[],
    pools: readonly PoolView[],
    holders: readonly string[],
  ): CycleChanges {
    this.core.apply({
      nodes,
      pools,
      remove: [...this.removed],
      update: [...this.updated.values()],
      add: [...this.added.values()],
      runningEnded: [...this.ended],
      running: [...this.started.values()],
      holders,
    });
    this.added.clear();
    this.removed.clear();
    this.updated.clear();
    this.started.clear();
    this.ended.clear();
    return this.core.runChanges(now);
  }
}
