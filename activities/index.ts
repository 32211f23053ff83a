import type { HandlerRegistry } from '../src/handlers/registry';
import { createRunStage } from './run-stage';

export type { RunStageInput, RunStageResult, RunStageFailureDetails } from './run-stage';

/** What the activities depend on, injected once per worker. */
export interface ActivityDependencies {
  /** Stage handlers (built-ins plus the user's). */
  registry: HandlerRegistry;
}

/**
 * Quartermaster's activities, built over their dependencies (the samples' dependency-injection pattern).
 * Workflows `import type` the result to build typed proxies.
 */
export function createActivities(deps: ActivityDependencies) {
  return {
    runStage: createRunStage(deps.registry),
  };
}

/** The activity functions' types, for `proxyActivities<QuartermasterActivities>()`. */
export type QuartermasterActivities = ReturnType<typeof createActivities>;
