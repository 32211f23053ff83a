/** The rows of the ranked queue a cycle returns. */
import type { Decision, PendingRequest, RankedEntry, ScoreBreakdown } from './types';

/** The queue row of the request at 0-based `rank`. */
export function rankedEntry(
  rank: number,
  req: PendingRequest,
  score: number,
  breakdown: ScoreBreakdown,
  decision: Decision['kind'],
  reason: string,
): RankedEntry {
  return {
    rank: rank + 1,
    key: req.key,
    workflowId: req.workflowId,
    stageId: req.stageId,
    shardIndex: req.shardIndex,
    priority: req.priority,
    importance: req.importance,
    score,
    breakdown,
    decision,
    reason,
  };
}
