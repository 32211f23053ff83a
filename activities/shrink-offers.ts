import type { Database } from '../src/ledger/db';
import { offerShrinks, shrinkState, type OfferResult } from '../src/ledger/shrink';
import type { LedgerSnapshot } from '../src/ledger/snapshot';
import { followedKeys, toClusterSnapshot } from '../src/admission/cluster-snapshot';
import type { SchedulerConfig } from '../src/scheduling/config';
import { degrade } from '../src/scheduling/degrade';
import type { ClusterSnapshot } from '../src/scheduling/types';

/**
 * The snapshot `degrade` should see: the same cluster, minus the running grants that must not be asked
 * (they declined or ignored an offer lately) as candidates. Their grants still count on their nodes. Pure.
 */
export function withoutCandidates(snapshot: ClusterSnapshot, skip: ReadonlySet<string>): ClusterSnapshot {
  if (skip.size === 0) return snapshot;
  return { ...snapshot, running: snapshot.running.filter((g) => !skip.has(g.key)) };
}

/**
 * Graceful degradation, the scheduler's half: when `holderKey` (the top blocked request of the cycle) still
 * waits on the ledger as committed (`after`), asks the pure `degrade` which running grants could shrink
 * to make room, and records those offers. One round at a time: nothing is proposed while any offer still
 * waits for an answer; grants that declined within `cooldownMs` are not asked, nor grants followed by a
 * successor.
 * @returns what was recorded, or null when nothing was proposed.
 */
export async function proposeShrinks(
  db: Database,
  after: LedgerSnapshot,
  holderKey: string,
  config: SchedulerConfig,
  cooldownMs: number,
): Promise<OfferResult | null> {
  if (!after.pending.some((r) => r.key === holderKey)) return null;
  const state = await shrinkState(db, after.now, { cooldownMs });
  if (state.pending.length > 0) return null;
  // A predecessor's grant is promised to its successor: never asked to shrink (nor is the successor, which
  // holds nothing of its own yet and is not among the running grants).
  const snapshot = withoutCandidates(
    toClusterSnapshot(after),
    new Set([...state.declined, ...followedKeys(after.active)]),
  );
  const proposal = degrade({ snapshot, requestKey: holderKey, now: after.now, config });
  if (proposal === null || proposal.offers.length === 0) return null;
  return offerShrinks(
    db,
    proposal.offers.map((o) => ({ key: o.key, to: o.to, forKey: proposal.forKey })),
    after.now,
  );
}
