import type { LedgerSnapshot } from '../src/ledger/snapshot';
import type { QueueRow } from '../src/admission/types';
import type { SchedulerConfig } from '../src/scheduling/config';
import { estimateStarts } from '../src/scheduling/estimate';
import type { RankedEntry } from '../src/scheduling/types';
import { toClusterSnapshot } from '../src/admission/cluster-snapshot';

/** Most waiting rows estimated per cycle (the rest show `null`). */
export const DEFAULT_ESTIMATE_LIMIT = 500;

/**
 * The ranked queue with an estimated start (`estimatedStartAt`, ISO, or `null` when unknown) on every waiting
 * row, computed by the pure `estimateStarts` on `after` — a ledger snapshot taken once the cycle's decisions
 * were committed, so this cycle's grants already hold their capacity. A running reservation is expected to
 * end at `grantedAt + expectedSeconds` (stretched by its CPU share when reduced); a waiting one to run
 * `expectedSeconds` at its minimum (stretched likewise). Without `expectedSeconds` the projection is
 * conservative: a grant never ends, a waiting request holds what it takes for ever. A stage that declares no
 * `expectedSeconds` runs its learned one when its stage key has enough history (the snapshot fills it in);
 * each waiting row says which it assumed (`expectedSeconds`, `expectedSource`, `expectedSamples`). Grant and
 * shard rows are returned unchanged. Pure.
 * @param limit - waiting rows estimated, in rank order (the rest get `null`). @default 500
 */
export function queueWithEstimates(
  queue: readonly RankedEntry[],
  after: LedgerSnapshot,
  config: SchedulerConfig,
  limit = DEFAULT_ESTIMATE_LIMIT,
): QueueRow[] {
  const order = queue.filter((e) => e.decision === 'wait').map((e) => e.key);
  if (order.length === 0) return [...queue];
  const cluster = toClusterSnapshot(after);
  const pending = new Map(cluster.pending.map((p) => [p.key, p]));
  const starts = estimateStarts({
    snapshot: cluster,
    now: after.now,
    order,
    config,
    limit,
  });
  return queue.map((e) => {
    if (e.decision !== 'wait') return e;
    // A key missing from `after` (granted or withdrawn since the cycle) has no estimate to give.
    const start = starts.get(e.key) ?? null;
    const p = pending.get(e.key);
    return {
      ...e,
      estimatedStartAt: start === null ? null : start.toISOString(),
      ...(p?.expectedSeconds === undefined
        ? {}
        : {
            expectedSeconds: p.expectedSeconds,
            expectedSource: p.expectedSource ?? 'declared',
            ...(p.expectedSamples === undefined ? {} : { expectedSamples: p.expectedSamples }),
          }),
    };
  });
}
