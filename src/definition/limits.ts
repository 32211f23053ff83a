/**
 * Every limit the definition language and the `pipelineWorkflow` argument enforce, in one place, with
 * why each value was chosen. The schema checks them at the edge (`qm validate`, `startPipeline`, and
 * again as the first thing `pipelineWorkflow` does), so no accepted value can make a worker build an
 * unbounded array, a duration Temporal rejects, or a history over Temporal's limits. The README's
 * "Limits" section lists them; `test/unit/definition/limits.test.ts` keeps the two in step.
 * Pure (imported by workflows).
 */

/**
 * Most stages a pipeline may have. Every stage is at least one activity (~6 history events) plus the
 * scheduler's signals; 1,000 stages stay well under Temporal's 51,200-event history limit and its 2,000
 * pending activities, and a pipeline of this many stages completes on the dev server in the test
 * `test/integration/pipeline/limits.test.ts`.
 */
export const MAX_STAGES = 1_000;

/** Shortest duration or interval, in seconds (1 ms: Temporal's duration strings have millisecond precision). */
export const MIN_SECONDS = 0.001;

/** Longest duration or interval, in seconds: 7 days (`timeoutSeconds`, `deadlineSeconds`, `expectedSeconds`, retry intervals). */
export const MAX_SECONDS = 7 * 24 * 60 * 60;

/** Largest quantity of any resource in a request (finite, ≥ 0): 1e9 (a billion cores, a petabyte in `memoryMb`). */
export const MAX_RESOURCE_QUANTITY = 1e9;

/** Most resources one vector (`desired`, `minimum`) may name. */
export const MAX_RESOURCES_PER_VECTOR = 32;

/** Longest resource name, in characters. */
export const MAX_RESOURCE_NAME_LENGTH = 64;

/**
 * Most shards a stage may split into (`shard.maxShards` and `shard.count`). A shard is a child workflow:
 * its start, completion and progress signal add ~5 events to the parent's history and its result is
 * carried there too, so 256 shards of at most {@link MAX_SHARD_RESULT_BYTES} each keep the parent far from
 * Temporal's 50 MB history limit, and the reducer's input under {@link MAX_SHARD_RESULTS_TOTAL_BYTES}.
 * A stage of this many shards completes on the dev server in `test/integration/pipeline/limits.test.ts`.
 * (The value that killed workers before this limit existed: `count: 1e9`.)
 */
export const MAX_SHARDS = 256;

/** `shard.maxShards` when a `by: "items"` spec omits it. (`by: "count"` always runs `count` shards.) */
export const DEFAULT_ITEMS_MAX_SHARDS = 16;

/**
 * Largest JSON result one shard may return, in bytes (UTF-8): 64 KiB. A larger one fails that shard with
 * `ShardResultTooLargeError`: write the data elsewhere and return a reference (a URI).
 */
export const MAX_SHARD_RESULT_BYTES = 64 * 1024;

/**
 * Largest total of every shard result of one stage, in bytes (UTF-8): 1.5 MiB, under Temporal's 2 MB
 * payload limit for the reducer's input. Above it the stage fails with `ShardResultTooLargeError` before
 * the reducer runs.
 */
export const MAX_SHARD_RESULTS_TOTAL_BYTES = 1.5 * 1024 * 1024;

/** Most attempts `retry.maximumAttempts` may ask for (0 still means unlimited, as in Temporal). */
export const MAX_ATTEMPTS = 100;

/** Largest `retry.backoffCoefficient`. */
export const MAX_BACKOFF_COEFFICIENT = 100;

/** Largest `shard.minItemsPerShard`. */
export const MAX_ITEMS_PER_SHARD = 1e9;

/** Longest pipeline name, in characters. */
export const MAX_NAME_LENGTH = 200;

/** Longest handler, reducer or shard `field` name, in characters. */
export const MAX_HANDLER_NAME_LENGTH = 200;

/** Longest pipeline `description`, in characters. */
export const MAX_DESCRIPTION_LENGTH = 10_000;

/** Deepest nesting accepted in a stage `input` or the run `input` (JSON values deeper than this are rejected). */
export const MAX_INPUT_DEPTH = 256;

/** Importance (base, per run, and with boosts) is a number in 0–{@link MAX_IMPORTANCE}. */
export const MAX_IMPORTANCE = 10;

/** Issues listed in a workflow failure (the rest are counted), so a very bad argument cannot bloat history. */
export const MAX_REPORTED_ISSUES = 50;
