/**
 * The pure scheduling core: Workflow Score, the scheduling cycle (place / negotiate / shard / wait with
 * backfill holds) — as one call over a snapshot (`runCycle`) or kept across calls and fed deltas
 * (`IncrementalCycle`, same decisions; see README.md) — and graceful degradation. No I/O, no clock: time is an argument. Both the real
 * `scheduleCycle` activity and the simulator call exactly these functions.
 *
 * @example
 * const config = compileSchedulerConfig({ weights: { importance: 0.3 } });
 * const { decisions, queue } = runCycle(
 *   { nodes: [{ id: 'n1', taskQueue: 'qm-n1', capacity: { cpu: 4 }, granted: {}, stale: false }],
 *     pools: [], running: [],
 *     pending: [{ key: 'r1', workflowId: 'w1', stageId: 'train', shardIndex: null, priority: 5,
 *                 importance: 0, desired: { cpu: 2 }, minimum: { cpu: 1 }, readySince: new Date(0) }] },
 *   new Date(60_000), config);
 * // decisions[0] → { kind: 'grant', key: 'r1', nodeId: 'n1', taskQueue: 'qm-n1', granted: { cpu: 2 }, reduced: false }
 */
export { runCycle } from './cycle';
export { IncrementalCycle } from './incremental-cycle';
export { assignSuccessors } from './successors';
export type { CycleDelta, CycleChanges } from './incremental-types';
export { computeScore, scoreRequests, type ScoreInputs } from './score';
export {
  compileSchedulerConfig,
  starvationBoundSeconds,
  DEFAULT_SCHEDULER_CONFIG,
  DEFAULT_WEIGHTS,
  type SchedulerOptions,
  type SchedulerConfig,
  type ScoreWeights,
} from './config';
export { degrade, type DegradeInput, type DegradeProposal, type ShrinkOffer } from './degrade';
export { effectiveFree } from './model';
export { estimateStarts, type EstimateInput } from './estimate';
export { cpuRate, expectedRunSeconds, MIN_CPU_RATE } from './runtime';
export { formatVector, formatQuantity } from './wait-reason';
export { InvalidSchedulerOptionError, InvalidSnapshotError, StaleCycleResultError } from './errors';
export * from './types';
