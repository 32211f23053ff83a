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
   * Hands the buffered changes, the nodes and pools (when they changed: undefined keeps the last ones) and
   * the holders to the core and runs a cycle.
   * @returns the changes-only result (valid until the next call).
   * @throws InvalidSnapshotError for a malformed request or grant (a simulator bug).
   */
  cycle(
    now: Date,
    nodes: readonly NodeView[] | undefined,
    pools: readonly PoolView[] | undefined,
    holders: readonly string[],
  ): CycleChanges {
    const list = <T>(c: { size: number; values(): Iterable<T> }): T[] | undefined =>
      c.size === 0 ? undefined : [...c.values()];
    this.core.apply({
      nodes,
      pools,
      remove: list(this.removed),
      update: list(this.updated),
      add: list(this.added),
      runningEnded: list(this.ended),
      running: list(this.started),
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
