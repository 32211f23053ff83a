import type { HandlerRegistry } from '../src/handlers/registry';
import type { LazyDatabase } from '../src/ledger/lazy';
import type { SchedulerConfig } from '../src/scheduling/config';
import { verifyBoostCapabilityActivity } from './boosts';
import { checkArgsActivities } from './check-args';
import { createReassemble } from './reassemble';
import { createRunStage } from './run-stage';
import { createSchedulerActivities } from './scheduler';

export type { RunStageInput, RunStageResult, RunStageFailureDetails } from './run-stage';
export type { ReassembleInput, ShardResultInput } from './reassemble';
export type { ReleaseReservationInput } from './admission';

/** What the activities depend on, injected once per worker. */
export interface ActivityDependencies {
  /** Stage handlers (built-ins plus the user's). */
  registry: HandlerRegistry;
  /** The ledger (opened on first use). */
  ledger: LazyDatabase;
  /** Scheduler configuration. */
  scheduler: {
    config: SchedulerConfig;
    workflowId: string;
    taskQueue: string;
    leaseMs: number;
    staleAfterMs: number;
    /** Execution records are kept this long, days. @default 30 */
    executionRetentionDays?: number;
    /** Successor grants' horizon, ms (0: none). @default SUCCESSOR_HORIZON_MS */
    successorHorizonMs?: number;
  };
}

/**
 * Quartermaster's activities, built over their dependencies (the samples' dependency-injection pattern).
 * Workflows `import type` the result to build typed proxies.
 */
export function createActivities(deps: ActivityDependencies) {
  const { handOff, ...scheduling } = createSchedulerActivities({
    ledger: deps.ledger,
    config: deps.scheduler.config,
    schedulerWorkflowId: deps.scheduler.workflowId,
    schedulerTaskQueue: deps.scheduler.taskQueue,
    leaseMs: deps.scheduler.leaseMs,
    staleAfterMs: deps.scheduler.staleAfterMs,
    ...(deps.scheduler.executionRetentionDays === undefined
      ? {}
      : { executionRetentionDays: deps.scheduler.executionRetentionDays }),
    ...(deps.scheduler.successorHorizonMs === undefined
      ? {}
      : { successorHorizonMs: deps.scheduler.successorHorizonMs }),
  });
  return {
    runStage: createRunStage({
      registry: deps.registry,
      ledger: deps.ledger,
      leaseMs: deps.scheduler.leaseMs,
      handOff,
    }),
    reassembleShards: createReassemble(deps.registry),
    verifyBoostCapability: verifyBoostCapabilityActivity,
    ...checkArgsActivities,
    ...scheduling,
  };
}

/** The activity functions' types, for `proxyActivities<QuartermasterActivities>()`. */
export type QuartermasterActivities = ReturnType<typeof createActivities>;
