/**
 * Patch ids (`patched()`) of workflow code changes that add commands, so runs started before a change replay
 * without them. One id per release of such changes: a run records each id once, whatever calls it.
 */

/**
 * The argument check (`checkPipelineArgs`, `checkShardArgs`) and the admission fast path (`requestFastPath`)
 * run as local activities.
 */
export const LOCAL_ACTIVITIES_PATCH = 'local-activity-checks-and-fast-path';
