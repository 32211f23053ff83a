import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { QuartermasterActivities } from '../activities';
import type { StageDefinition } from '../src/definition/types';
import type { JsonValue } from '../src/handlers/types';
import { MAX_CONCURRENT_SHARDS, shardTasks, shardWorkflowId, type ShardTask } from '../src/sharding/fan-out';
import { MIN_SECONDS } from '../src/definition/limits';
import { qmPipelineKey, qmShardKey, qmStageKey, qmStateKey } from '../src/search-attributes';
import { SHARD_RESULT_TOO_LARGE, shardResultsProblem } from '../src/sharding/result-size';
import { shardShare } from '../src/sharding/slices';
import { ShardTracker, type ShardCoverage, type ShardState } from '../src/sharding/tracker';
import { shardWorkflow } from './shard-workflow';
import { DEFINITION_VERSION_MEMO, definitionVersionFromMemo } from '../src/pipeline/definition-version';

const reducers = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/** The books of the stages being sharded, by stage id (the `shardProgress` signal handler updates them). */
export type ShardBooks = Map<string, ShardTracker>;

/** What {@link runShardedStage} needs. */
export interface ShardedStageArgs {
  /** The stage (with its validated `shard` spec). */
  stage: StageDefinition;
  /** Shards to run (see `fanOutCount`). */
  count: number;
  /** The stage's input (sliced per shard for `by: "items"`). */
  input: JsonValue;
  /** Outputs of its dependencies. */
  deps: Record<string, JsonValue>;
  /** The pipeline's run input. */
  pipelineInput: JsonValue;
  /** The pipeline's importance now (each shard asks at it). */
  importance: number;
  /** When the stage's request was made (ISO-8601), so its shards keep its place. @default now */
  readySince?: string;
  /** Workflow time (ms since the epoch) by which the stage must end (`deadlineSeconds`); none when absent. */
  deadlineAtMs?: number;
  /** Where the stage's tracker is registered while it runs. */
  books: ShardBooks;
  /** Called whenever a shard's state changes. */
  onChange(shards: ShardState[]): void;
}

/** The outcome of a sharded stage. */
export type ShardedOutcome =
  | { kind: 'reassembled'; output: JsonValue; coverage: ShardCoverage; shards: ShardState[] }
  | { kind: 'failed'; message: string; coverage: ShardCoverage; shards: ShardState[] };

function describe(err: unknown): string {
  const cause =
    err instanceof ChildWorkflowFailure || err instanceof ActivityFailure ? (err.cause ?? err) : err;
  if (cause instanceof ApplicationFailure) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function list(indexes: number[]): string {
  return indexes.length > 10
    ? `${indexes.slice(0, 10).join(', ')} … (${indexes.length} in all)`
    : indexes.join(', ');
}

/** A shard's search attributes: its pipeline (when the parent has one), stage, index, and state `running`. */
function shardSearchAttributes(
  pipeline: string | undefined,
  stageId: string,
  index: number,
): SearchAttributePair[] {
  return [
    ...(pipeline === undefined ? [] : [{ key: qmPipelineKey, value: pipeline }]),
    { key: qmStageKey, value: stageId },
    { key: qmShardKey, value: index },
    { key: qmStateKey, value: 'running' },
  ];
}

function summary(stage: StageDefinition, task: ShardTask): string {
  const items = task.items ? ` — items ${task.items.start}–${task.items.end - 1}` : '';
  return `Shard ${task.index + 1}/${task.count} of stage "${stage.id}"${items}`;
}

/**
 * Runs a stage as shards: one child `shardWorkflow` per shard (id `<parent>/<stage>/shard-<i>`, so a
 * replayed parent never starts one twice), at most {@link MAX_CONCURRENT_SHARDS} started at once and more
 * as they finish; each asks for its own reservation. Results are gathered by index (one per shard), then
 * the reducer runs as the `reassembleShards` activity (deterministic, so a retry returns the same output).
 * When a shard fails for good or the deadline passes: with `partial: "forbid"` the remaining shards are
 * cancelled and the stage fails naming the shards; with `"allow"` the others finish (at a deadline they
 * are cancelled) and what completed is reduced, with a coverage report. Children are cancelled with the
 * parent (`ParentClosePolicy.REQUEST_CANCEL`), so they withdraw or release their reservations.
 */
export async function runShardedStage(args: ShardedStageArgs): Promise<ShardedOutcome> {
  const { stage, books } = args;
  const spec = stage.shard;
  if (spec === undefined) throw ApplicationFailure.nonRetryable(`stage "${stage.id}" has no shard spec`);
  const allow = spec.partial === 'allow';
  const parentId = workflowInfo().workflowId;
  const pipelineName = workflowInfo().typedSearchAttributes.get(qmPipelineKey);
  const definitionVersion = definitionVersionFromMemo(workflowInfo().memo);
  const tasks = shardTasks(stage, args.input, args.count);
  const tracker = new ShardTracker(tasks);
  // Items of a `by: "items"` stage (the last slice ends at the array's length); undefined for `by: "count"`.
  const itemCount = tasks.some((t) => t.items !== undefined)
    ? Math.max(...tasks.map((t) => t.items?.end ?? 0))
    : undefined;
  books.set(stage.id, tracker);
  // A shard runs the stage's handler with the shard's own resources and never shards again.
  const { shard: _spec, resources: _whole, expectedSeconds: wholeSeconds, ...plain } = stage;
  /** A shard's expected run time: the stage's scaled by its item share (as the simulator does); none when 0. */
  const expectedOf = (task: ShardTask): { expectedSeconds?: number } => {
    const seconds =
      wholeSeconds === undefined ? 0 : wholeSeconds * shardShare(task.count, task.index, itemCount);
    // Never below the 1 ms the shard's own argument check accepts.
    return seconds > 0 ? { expectedSeconds: Math.max(MIN_SECONDS, seconds) } : {};
  };

  let stop: string | undefined;
  let cancelling = false;
  let active = 0;
  let settled = 0;
  const children = new CancellationScope();
  const timer = new CancellationScope();
  if (args.deadlineAtMs !== undefined) {
    const ms = Math.max(1, args.deadlineAtMs - Date.now());
    void timer
      .run(() => sleep(ms, { summary: `deadline of stage "${stage.id}"` }))
      .then(
        () => void (stop ??= `deadline of ${stage.deadlineSeconds}s passed`),
        () => undefined,
      );
  }

  const runOne = async (task: ShardTask): Promise<void> => {
    try {
      const result = await executeChild(shardWorkflow, {
        workflowId: shardWorkflowId(parentId, stage.id, task.index),
        args: [
          {
            stage: {
              ...plain,
              ...expectedOf(task),
              ...(task.resources ? { resources: task.resources } : {}),
            },
            shard: { index: task.index, count: task.count },
            input: task.input,
            deps: args.deps,
            pipelineInput: args.pipelineInput,
            importance: args.importance,
            parentWorkflowId: parentId,
            ...(args.readySince === undefined ? {} : { readySince: args.readySince }),
          },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // The registered definition version, for the shard's execution records.
        ...(definitionVersion === undefined
          ? {}
          : { memo: { [DEFINITION_VERSION_MEMO]: definitionVersion } }),
        staticSummary: summary(stage, task),
        // "All shards of pipeline x" is a Web UI filter: QmPipeline = "x" AND QmStage = "total".
        typedSearchAttributes: shardSearchAttributes(pipelineName, stage.id, task.index),
      });
      tracker.completed(task.index, result.output, result.attempts, result.node);
    } catch (err) {
      const cancelled = isCancellation(err);
      tracker.failed(task.index, cancelled ? (stop ?? 'cancelled') : describe(err), cancelled);
      if (!cancelled && !allow) stop ??= `shard ${task.index} failed`;
    } finally {
      active--;
      settled++;
      args.onChange(tracker.snapshot());
    }
  };

  for (;;) {
    while (stop === undefined && active < MAX_CONCURRENT_SHARDS) {
      const task = tracker.takeNext();
      if (task === undefined) break;
      active++;
      void children.run(() => runOne(task));
    }
    args.onChange(tracker.snapshot());
    if (active === 0) break;
    const seen = settled;
    await condition(() => settled !== seen || (stop !== undefined && !cancelling));
    if (stop !== undefined && !cancelling) {
      cancelling = true;
      children.cancel();
    }
  }
  timer.cancel();
  if (stop !== undefined) tracker.cancelUnstarted(stop);
  books.delete(stage.id);

  const shards = tracker.snapshot();
  const coverage = tracker.coverage();
  const results = tracker.results();
  if (!tracker.allCompleted()) {
    const failed = tracker.failedIndexes();
    const firstError = shards.find((s) => s.status === 'failed')?.error;
    const why =
      failed.length > 0
        ? `shard ${list(failed)} failed${firstError ? `: ${firstError}` : ''}`
        : `${stop ?? 'stopped'}; shard ${list(tracker.incompleteIndexes())} did not complete`;
    if (!allow) return { kind: 'failed', message: why, coverage, shards };
    if (results.length === 0)
      return { kind: 'failed', message: `no shard completed: ${why}`, coverage, shards };
  }
  const tooLarge = shardResultsProblem(
    stage.id,
    results.map((r) => r.value),
  );
  if (tooLarge !== undefined)
    return { kind: 'failed', message: `${SHARD_RESULT_TOO_LARGE}: ${tooLarge}`, coverage, shards };
  try {
    const output = await reducers.reassembleShards({
      reducer: spec.reassemble,
      workflowId: parentId,
      stageId: stage.id,
      results: results.map((r) => ({ index: r.index, value: r.value as JsonValue })),
      coverage,
      pipelineInput: args.pipelineInput,
    });
    return { kind: 'reassembled', output, coverage, shards };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return {
      kind: 'failed',
      message: `reassemble (${spec.reassemble}) failed: ${describe(err)}`,
      coverage,
      shards,
    };
  }
}
