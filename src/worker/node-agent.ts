import type { Database } from '../ledger/db';
import { heartbeatNode, registerNode, type NodeUsageSnapshot } from '../ledger/nodes';
import type { ResourceVector } from '../ledger/types';
import { detectCapacity, NodeForecaster, Sampler, snapshotForLedger, type NodeSnapshot } from '../monitor';

/** Options for {@link NodeAgent}. */
export interface NodeAgentOptions {
  /** The ledger. */
  db: Database;
  /** Node id. */
  nodeId: string;
  /** The node's task queue. */
  taskQueue: string;
  /** Declared capacity; @default detected at start (cgroup-aware cores and memory, GPUs). */
  capacity?: ResourceVector;
  /** Sample and publish usage + forecasts; false sends bare heartbeats. @default true */
  monitor?: boolean;
  /** Sampling / heartbeat interval, ms. @default 1000 with the monitor, 2000 without (well under the 10 s stale time) */
  intervalMs?: number;
  /** Where problems are reported. @default stderr */
  log?: (line: string) => void;
  /** Sees each usage snapshot before it is published (the forecast-error metric). @default none */
  onSnapshot?: (snapshot: NodeSnapshot) => void;
}

/**
 * A worker host's presence in the ledger: registers the node, then heartbeats every interval with its
 * measured usage and +5 s/+10 s forecasts, so the scheduler plans on what the node will really have free.
 * A failing heartbeat is logged and retried at the next interval; it never stops the worker.
 */
export class NodeAgent {
  private sampler: Sampler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;
  private capacity: ResourceVector | undefined;
  private registered = false;

  constructor(private readonly options: NodeAgentOptions) {
    this.log = options.log ?? ((l) => void process.stderr.write(`${l}\n`));
    this.capacity = options.capacity;
  }

  /**
   * Registers the node (with its declared or detected capacity) and starts heartbeating.
   * @throws DatabaseUnavailableError when the node cannot be registered at start.
   */
  async start(): Promise<void> {
    this.capacity ??= { ...(await detectCapacity()) };
    await this.beat();
    const interval = this.options.intervalMs ?? (this.options.monitor === false ? 2000 : 1000);
    if (this.options.monitor === false) {
      this.timer = setInterval(() => void this.beat().catch((err: unknown) => this.report(err)), interval);
      return;
    }
    const forecaster = new NodeForecaster();
    this.sampler = new Sampler({
      intervalMs: interval,
      onSample: (sample) => {
        forecaster.update(sample);
        const snapshot = snapshotForLedger(sample, forecaster);
        try {
          this.options.onSnapshot?.(snapshot);
        } catch {
          // An observer (metrics) never stops the heartbeat.
        }
        void this.beat(snapshot).catch((err: unknown) => this.report(err));
      },
    });
    await this.sampler.start();
  }

  /** Stops sampling and heartbeating (the node goes stale after the ledger's stale time). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sampler?.stop();
  }

  /**
   * One heartbeat, stamped by the database's clock (a worker whose clock is skewed is neither stale nor
   * fresh for longer); (re-)registers first until a registration succeeded.
   */
  private async beat(snapshot?: NodeUsageSnapshot): Promise<void> {
    const { db, nodeId, taskQueue } = this.options;
    if (!this.registered && this.capacity) {
      await registerNode(db, { id: nodeId, taskQueue, capacity: this.capacity });
      this.registered = true;
    }
    if (this.registered) await heartbeatNode(db, nodeId, undefined, snapshot);
  }

  private report(err: unknown): void {
    this.log(`[qm node ${this.options.nodeId}] heartbeat failed: ${(err as Error).message ?? String(err)}`);
  }
}
