import type { Database } from '../../src/ledger/db';
import { checkInvariant } from '../../src/ledger/invariant';
import { snapshot } from '../../src/ledger/snapshot';

/** What {@link watchLedger} saw. */
export interface LedgerWatch {
  /** Stops sampling; resolves with the most cpu ever granted on the node and the invariant violations seen. */
  stop(): Promise<{ maxCpu: number; violations: number }>;
}

/**
 * Samples Σ granted cpu on `nodeId` and the ledger's invariant every 50 ms until stopped (tests that must
 * show no moment overcommits a node).
 */
export function watchLedger(db: Database, nodeId: string): LedgerWatch {
  let maxCpu = 0;
  let violations = 0;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const snap = await snapshot(db, new Date());
      maxCpu = Math.max(maxCpu, snap.nodes.find((n) => n.id === nodeId)?.granted.cpu ?? 0);
      violations += (await checkInvariant(db)).length;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return { maxCpu, violations };
    },
  };
}
