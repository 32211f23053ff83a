import type { Database } from '../../src/ledger/db';
import { checkInvariant } from '../../src/ledger/invariant';
import { snapshot } from '../../src/ledger/snapshot';

/** What {@link watchLedger} saw. */
export interface LedgerWatch {
  /**
   * Stops sampling; resolves with the most cpu ever granted on the node and the invariant violations seen.
   * @throws the error that stopped sampling early (a ledger query failed).
   */
  stop(): Promise<{ maxCpu: number; violations: number }>;
}

/**
 * Samples Σ granted cpu on `nodeId` and the ledger's invariant every 50 ms until stopped (tests that must
 * show no moment overcommits a node). A failing query ends the sampling (so a test that failed before
 * stopping it leaves nothing running against a dropped schema); `stop` reports it.
 */
export function watchLedger(db: Database, nodeId: string): LedgerWatch {
  let maxCpu = 0;
  let violations = 0;
  let stop = false;
  let failure: unknown;
  const done = (async () => {
    try {
      while (!stop) {
        const snap = await snapshot(db, new Date());
        maxCpu = Math.max(maxCpu, snap.nodes.find((n) => n.id === nodeId)?.granted.cpu ?? 0);
        violations += (await checkInvariant(db)).length;
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (err) {
      failure = err;
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      if (failure !== undefined) throw failure;
      return { maxCpu, violations };
    },
  };
}
