import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { QuartermasterActivities } from '../activities';
import { BoostBook } from '../src/boosts/boost-book';
import { checkBoostRequest } from '../src/boosts/boost-request';
import type { StageDefinition } from '../src/definition/types';
import { formatIssue, validateDefinition } from '../src/definition/validate';
import type { JsonValue } from '../src/handlers/types';
import { PipelineRun } from '../src/pipeline/run-state';
import type { PipelineInput, PipelineResult } from '../src/pipeline/types';
import { qmImportanceKey, qmPipelineKey, qmPriorityKey, qmStateKey } from '../src/search-attributes';
import { fanOutCount, shardRequestSpec, shardsUpFront } from '../src/sharding/fan-out';
import type { ShardRequestSpec } from '../src/scheduling/types';
import {
  admissionProgressSignal,
  allocationChangedSignal,
  boostSignal,
  boostUpdate,
  shardProgressSignal,
  statusQuery,
} from './messages';
import { runShardedStage, type ShardBooks } from './shard-runner';
import { runStageWithAdmission } from './stage-runner';

const boostActivities = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});
const policyActivities = proxyLocalActivities<QuartermasterActivities>({ startToCloseTimeout: '10s' });

/**
 * Runs a pipeline: validates its definition, then runs stages in dependency order, independent stages
 * concurrently. A stage with resources asks the scheduler for a reservation and runs on the granted node's
 * task queue with its allocation; one without runs at once. A shardable stage that cannot fit (or one with
 * `shard.always`) runs as child `shardWorkflow`s whose results are reassembled; with `partial: "allow"` it
 * may end `partial` (the result's status is then `partial`). Queryable with `status`; the Web UI shows a
 * stage table.
 * @returns the result with every stage's status, attempts, times, output, allocation and node.
 * @throws ApplicationFailure `InvalidDefinitionError` (non-retryable, details: the issues) for a bad
 *   definition; `PipelineFailedError` (details[0]: the {@link PipelineResult}) when a stage fails.
 */
export async function pipelineWorkflow(args: PipelineInput): Promise<PipelineResult> {
  const validation = validateDefinition(args?.definition);
  if (!validation.ok) {
    throw ApplicationFailure.create({
      type: 'InvalidDefinitionError',
      message: `invalid pipeline definition:\n${validation.issues.map(formatIssue).join('\n')}`,
      nonRetryable: true,
      details: [validation.issues],
    });
  }
  const definition = validation.definition;
  const importance = args.importance ?? definition.importance;
  const run = new PipelineRun(definition, importance);
  const book = new BoostBook(importance);
  let adminTokenSha256: string | null = null;
  setHandler(statusQuery, () => ({
    ...run.status(),
    importance: book.importance(new Date()),
    boosts: book.active(new Date()),
    ignoredBoosts: book.ignored(),
  }));
  // Graceful degradation: a running stage that accepted a smaller allocation says so (a late signal of an
  // earlier attempt is ignored).
  const currentAttempt = new Map<string, number>();
  // Why a stage waits, from its waiting request (a bounded number of times per wait). Details only.
  setHandler(admissionProgressSignal, (p) => {
    if (p.shardIndex !== undefined || run.definition.stages.every((s) => s.id !== p.stageId)) return;
    if (run.state(p.stageId).status !== 'waiting' || (currentAttempt.get(p.stageId) ?? 1) !== p.attempt)
      return;
    run.waiting(p.stageId, p.reason);
    setCurrentDetails(run.markdown());
  });
  setHandler(allocationChangedSignal, (c) => {
    if (currentAttempt.get(c.stageId) !== c.attempt) return;
    run.reallocated(c.stageId, c.allocation);
    setCurrentDetails(run.markdown());
  });
  const shardBooks: ShardBooks = new Map();
  setHandler(shardProgressSignal, (p) => {
    const book = shardBooks.get(p.stageId);
    if (book === undefined || p.index < 0 || p.index >= book.size) return;
    book.running(p.index, p.attempt, p.node);
    run.shards(p.stageId, book.snapshot());
    // Details only: a search-attribute upsert per shard would cost a history event each.
    setCurrentDetails(run.markdown());
  });

  const publishImportance = (): void =>
    upsertSearchAttributes([{ key: qmImportanceKey, value: book.importance(new Date()) }]);
  const applyBoost = async (request: unknown) => {
    const boost = checkBoostRequest(request, adminTokenSha256);
    const { expiresAt } = await boostActivities.recordBoost({
      workflowId: workflowInfo().workflowId,
      ...boost,
    });
    book.add({ amount: boost.amount, expiresAt, reason: boost.reason, actor: boost.actor });
    publishImportance();
    // When it expires, the search attribute follows (the ledger stops counting it by itself).
    void sleep(boost.ttlSeconds * 1000).then(publishImportance);
    return { importance: book.importance(new Date()), expiresAt };
  };
  setHandler(boostUpdate, applyBoost, {
    validator: (request) => {
      try {
        checkBoostRequest(request, adminTokenSha256);
      } catch (err) {
        // Rejected by the validator: the update never reaches history.
        throw ApplicationFailure.nonRetryable((err as Error).message, (err as Error).name);
      }
    },
  });
  setHandler(boostSignal, async (request) => {
    try {
      checkBoostRequest(request, adminTokenSha256);
    } catch (err) {
      book.ignore(new Date(), (err as Error).message);
      return;
    }
    await applyBoost(request);
  });
  ({ adminTokenSha256 } = await policyActivities.boostPolicy());

  // A search-attribute upsert is a history event: write QmState only when it changed (a waiting stage
  // re-admitted many times must not add an event each time). Current details cost no event.
  let publishedState: string | undefined;
  const publish = (): void => {
    const state = run.overall();
    if (state !== publishedState) {
      upsertSearchAttributes([{ key: qmStateKey, value: state }]);
      publishedState = state;
    }
    setCurrentDetails(run.markdown());
  };
  upsertSearchAttributes([
    { key: qmPipelineKey, value: definition.name },
    { key: qmPriorityKey, value: run.highestPriority() },
    { key: qmImportanceKey, value: importance },
  ]);
  publish();

  const pipelineInput: JsonValue = args.input ?? null;
  const inFlight = new Map<string, Promise<void>>();

  const runSharded = async (stage: StageDefinition, count: number, deadlineAtMs: number | undefined) => {
    run.started(stage.id, new Date());
    publish();
    const outcome = await runShardedStage({
      stage,
      count,
      input: stage.input as JsonValue,
      deps: run.depsOutputs(stage),
      pipelineInput,
      importance: book.importance(new Date()),
      ...(deadlineAtMs === undefined ? {} : { deadlineAtMs }),
      books: shardBooks,
      onChange: (shards) => {
        run.shards(stage.id, shards);
        setCurrentDetails(run.markdown());
      },
    });
    run.shards(stage.id, outcome.shards);
    const attempts = Math.max(0, ...outcome.shards.map((s) => s.attempts));
    if (outcome.kind === 'reassembled') {
      run.reassembled(stage.id, new Date(), outcome.output, outcome.coverage, attempts);
    } else run.failedStage(stage.id, new Date(), outcome.message, attempts, outcome.coverage);
    publish();
  };

  const runStage = async (stage: StageDefinition): Promise<void> => {
    const deadlineAtMs =
      stage.deadlineSeconds === undefined ? undefined : Date.now() + stage.deadlineSeconds * 1000;
    let shardSpec: ShardRequestSpec | undefined;
    let upFront: number | undefined;
    try {
      shardSpec = shardRequestSpec(stage, stage.input as JsonValue);
      if (shardSpec !== undefined && shardsUpFront(stage))
        upFront = fanOutCount(stage, stage.input as JsonValue);
    } catch (err) {
      // A shard spec whose items field is not an array: the stage cannot run as declared.
      const e = err as Error;
      run.failedStage(stage.id, new Date(), `${e.name}: ${e.message}`, 0);
      publish();
      return;
    }
    if (upFront !== undefined) return runSharded(stage, upFront, deadlineAtMs);
    const outcome = await runStageWithAdmission(
      stage,
      {
        workflowId: workflowInfo().workflowId,
        stageId: stage.id,
        handler: stage.handler,
        input: stage.input as JsonValue,
        deps: run.depsOutputs(stage),
        pipelineInput,
      },
      () => book.importance(new Date()),
      {
        waiting: () => {
          run.waiting(stage.id, undefined);
          publish();
        },
        started: (admission, attempt) => {
          currentAttempt.set(stage.id, attempt);
          run.started(stage.id, new Date(), admission.allocation, admission.nodeId);
          publish();
        },
      },
      shardSpec,
    );
    if (outcome.kind === 'shard') {
      const count = fanOutCount(stage, stage.input as JsonValue, outcome.order.shardCount);
      return runSharded(stage, count, deadlineAtMs);
    }
    if (outcome.kind === 'completed') {
      run.completed(stage.id, new Date(), outcome.result.output, outcome.result.attempt);
    } else run.failedStage(stage.id, new Date(), outcome.message, outcome.attempts);
    publish();
  };

  for (;;) {
    // A stage is launched once: ready() lists only stages still `pending`, and launched() marks it waiting
    // synchronously with the launch, before any await could let another stage's completion list it again.
    for (const stage of run.ready()) {
      if (!run.launched(stage.id)) continue;
      inFlight.set(
        stage.id,
        runStage(stage).finally(() => inFlight.delete(stage.id)),
      );
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }

  run.skipRemaining();
  publish();
  await condition(allHandlersFinished);
  const result = run.result();
  if (result.status === 'failed') {
    const failed = run.failedStages();
    const first = failed[0] === undefined ? undefined : run.state(failed[0]);
    throw ApplicationFailure.create({
      type: 'PipelineFailedError',
      message: `stage ${failed.map((id) => `"${id}"`).join(', ')} failed: ${first?.error ?? 'unknown error'}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
