import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
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
import { checkBoostRequest, InvalidBoostError } from '../src/boosts/boost-request';
import { NonceBook } from '../src/boosts/capability';
import type { StageDefinition } from '../src/definition/types';
import type { JsonValue } from '../src/handlers/types';
import { PipelineRun } from '../src/pipeline/run-state';
import { definitionVersionFromMemo } from '../src/pipeline/definition-version';
import { checkedPipelineArgs } from './args-check';
import type { PipelineInput, PipelineResult, PipelineStatus } from '../src/pipeline/types';
import { qmImportanceKey, qmPipelineKey, qmPriorityKey, qmStateKey } from '../src/search-attributes';
import { fanOutCount, shardRequestSpec, shardsUpFront } from '../src/sharding/fan-out';
import type { ShardRequestSpec } from '../src/scheduling/types';
import {
  admissionProgressSignal,
  DESCRIPTIONS,
  allocationChangedSignal,
  boostSignal,
  boostUpdate,
  type BoostResult,
  shardProgressSignal,
  statusQuery,
} from './messages';
import { rejectPipelineArgs } from './pipeline-edge';
import { runShardedStage, type ShardBooks } from './shard-runner';
import { runStageWithAdmission } from './stage-runner';

const boostActivities = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});
const capabilityActivities = proxyLocalActivities<QuartermasterActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/**
 * Runs a pipeline: validates its definition, then runs stages in dependency order, independent stages
 * concurrently. A stage with resources asks the scheduler for a reservation and runs on the granted node's
 * task queue with its allocation; one without runs at once. A shardable stage that cannot fit (or one with
 * `shard.always`) runs as child `shardWorkflow`s whose results are reassembled; with `partial: "allow"` it
 * may end `partial` (the result's status is then `partial`). Queryable with `status`; the Web UI shows a
 * stage table.
 * @returns the result with every stage's status, attempts, times, output, allocation and node.
 * @throws ApplicationFailure `InvalidArgumentError` (a bad wrapper: not `{ definition, input?, importance? }`,
 *   an unknown key, a bad importance) or `InvalidDefinitionError` (a bad definition), non-retryable, details[0]:
 *   the issues (`{ code, pathText, message }`), at once — never a failing workflow task; `PipelineFailedError` (details[0]: the {@link PipelineResult}) when a stage fails.
 */
export async function pipelineWorkflow(args: PipelineInput): Promise<PipelineResult> {
  // Answered from the first activation: while the argument is being checked (a local activity), the status
  // is the run's name with no stages yet; then the handler below replaces this one.
  setHandler(
    statusQuery,
    (): PipelineStatus => ({
      name: typeof args?.definition?.name === 'string' ? args.definition.name : '',
      state: 'running',
      importance: 0,
      stages: {},
    }),
    { description: DESCRIPTIONS.status },
  );
  // Nonces of admin capabilities already used: a captured capability cannot be replayed.
  const nonces = new NonceBook();
  const boostContext = () => ({ workflowId: workflowInfo().workflowId, now: new Date(), nonces });
  // An update must find its handler in the activation that delivers it, and the argument check below waits
  // for a local activity: a boost sent meanwhile has its fields checked now and waits for the run to be ready
  // (the cap is checked then, when it is applied).
  let applyBoostUpdate: ((request: unknown) => Promise<BoostResult>) | undefined = undefined;
  /** A rejected boost as the update's failure (a plain Error would fail the workflow task instead). */
  const asFailure = (err: unknown): Error =>
    err instanceof Error && err.name === 'InvalidBoostError'
      ? ApplicationFailure.nonRetryable(err.message, err.name)
      : (err as Error);
  setHandler(
    boostUpdate,
    async (request) => {
      await condition(() => applyBoostUpdate !== undefined);
      return (applyBoostUpdate as (request: unknown) => Promise<BoostResult>)(request);
    },
    {
      validator: (request) => {
        try {
          checkBoostRequest(request, boostContext());
        } catch (err) {
          throw asFailure(err);
        }
      },
      description: DESCRIPTIONS.boostUpdate,
    },
  );
  // The whole argument is checked before anything else: a bad one fails the run at once, never the task.
  const checked = await checkedPipelineArgs(args);
  if (!checked.ok) rejectPipelineArgs(checked);
  const { definition, importance } = checked;
  // Checked with the rest (JSON; a carry of the right shape), so taken as they are.
  const pipelineInput: JsonValue = args.input ?? null;
  const run = new PipelineRun(definition, importance);
  const book = new BoostBook(importance);
  /** The Web UI's current details: headline and stage table (see `PipelineRun.markdown`). */
  const details = (): string => run.markdown(new Date(), book.importance(new Date()));
  // A continued run picks up where the previous one stopped: finished stages, boosts, used nonces.
  const carried = args.carry;
  if (carried !== undefined) {
    run.restore(carried.stages);
    book.restore(carried.boosts);
    nonces.restore(carried.nonces);
  }
  setHandler(
    statusQuery,
    () => ({
      ...run.status(),
      importance: book.importance(new Date()),
      boosts: book.active(new Date()),
      ignoredBoosts: book.ignored(),
      ignoredBoostCount: book.ignoredCount(),
    }),
    { description: DESCRIPTIONS.status },
  );
  // Graceful degradation: a running stage that accepted a smaller allocation says so (a late signal of an
  // earlier attempt is ignored).
  const currentAttempt = new Map<string, number>();
  // Why a stage waits, from its waiting request (a bounded number of times per wait). Details only.
  setHandler(
    admissionProgressSignal,
    (p) => {
      if (p.shardIndex !== undefined || run.definition.stages.every((s) => s.id !== p.stageId)) return;
      if (run.state(p.stageId).status !== 'waiting' || (currentAttempt.get(p.stageId) ?? 1) !== p.attempt)
        return;
      run.waiting(p.stageId, p.reason);
      setCurrentDetails(details());
    },
    { description: DESCRIPTIONS.admissionProgress },
  );
  setHandler(
    allocationChangedSignal,
    (c) => {
      if (currentAttempt.get(c.stageId) !== c.attempt) return;
      run.reallocated(c.stageId, c.allocation);
      setCurrentDetails(details());
    },
    { description: DESCRIPTIONS.allocationChanged },
  );
  const shardBooks: ShardBooks = new Map();
  setHandler(
    shardProgressSignal,
    (p) => {
      const book = shardBooks.get(p.stageId);
      if (book === undefined || p.index < 0 || p.index >= book.size) return;
      book.running(p.index, p.attempt, p.node);
      run.shards(p.stageId, book.snapshot());
      // Details only: a search-attribute upsert per shard would cost a history event each.
      setCurrentDetails(details());
    },
    { description: DESCRIPTIONS.shardProgress },
  );

  const publishImportance = (): void => {
    upsertSearchAttributes([{ key: qmImportanceKey, value: book.importance(new Date()) }]);
    setCurrentDetails(details());
  };
  // Boosts carried from the previous run still expire on time (the search attribute follows).
  for (const b of book.active(new Date()))
    void sleep(Math.max(1, Date.parse(b.expiresAt) - Date.now())).then(publishImportance);
  /** Checks a boost (fields, then the cap on base + active boosts). @throws InvalidBoostError */
  const checkBoost = (request: unknown) => {
    const boost = checkBoostRequest(request, boostContext());
    book.check(boost.amount, new Date());
    return boost;
  };
  const applyBoost = async (request: unknown) => {
    const boost = checkBoostRequest(request, boostContext());
    // Held while it is recorded, so concurrent boosts cannot overshoot the cap together.
    const release = book.reserve(boost.amount, new Date());
    try {
      if (boost.capability !== undefined) {
        // Spent before the check, so a concurrent replay of the same capability is refused too.
        nonces.use(boost.capability.nonce, Date.parse(boost.capability.expiresAt), new Date());
        // The MAC is verified where the secret is; history records only { valid }.
        const { valid } = await capabilityActivities.verifyBoostCapability(boost.capability);
        if (!valid)
          throw new InvalidBoostError(
            'capability',
            '(a capability)',
            'is not valid: its MAC does not match (wrong secret, tampered, or no QM_ADMIN_TOKEN on the workers)',
          );
      }
      const { expiresAt } = await boostActivities.recordBoost({
        workflowId: workflowInfo().workflowId,
        ...boost,
      });
      book.add({ amount: boost.amount, expiresAt, reason: boost.reason, actor: boost.actor }, new Date());
      publishImportance();
      // When it expires, the search attribute follows (the ledger stops counting it by itself).
      void sleep(boost.ttlSeconds * 1000).then(publishImportance);
      return { importance: book.importance(new Date()), expiresAt };
    } finally {
      release();
    }
  };
  applyBoostUpdate = async (request: unknown) => {
    try {
      return await applyBoost(request);
    } catch (err) {
      // A plain Error would fail the workflow task; the update fails instead.
      throw asFailure(err);
    }
  };
  setHandler(boostUpdate, applyBoostUpdate, {
    validator: (request) => {
      try {
        checkBoost(request);
      } catch (err) {
        // Rejected by the validator: the update never reaches history.
        throw asFailure(err);
      }
    },
    description: DESCRIPTIONS.boostUpdate,
  });
  setHandler(
    boostSignal,
    async (request) => {
      try {
        checkBoost(request);
        await applyBoost(request);
      } catch (err) {
        // Invalid, over the cap, or not recorded: ignored, kept as a bounded summary (never the value).
        const e = err as Error & { field?: unknown };
        book.ignore(new Date(), {
          field: typeof e.field === 'string' ? e.field : '(root)',
          message: typeof e.message === 'string' ? e.message : String(err),
        });
      }
    },
    { description: DESCRIPTIONS.boostSignal },
  );

  // A search-attribute upsert is a history event: write QmState only when it changed (a waiting stage
  // re-admitted many times must not add an event each time). Current details cost no event.
  let publishedState: string | undefined;
  const publish = (): void => {
    const state = run.overall();
    if (state !== publishedState) {
      upsertSearchAttributes([{ key: qmStateKey, value: state }]);
      publishedState = state;
    }
    setCurrentDetails(details());
  };
  upsertSearchAttributes([
    { key: qmPipelineKey, value: definition.name },
    { key: qmPriorityKey, value: run.highestPriority() },
    { key: qmImportanceKey, value: book.importance(new Date()) },
  ]);
  publish();

  const inFlight = new Map<string, Promise<void>>();
  // Recorded with every attempt (execution data): the definition's name and, when started from the registry,
  // its version (the memo `startPipeline` wrote; it carries over continue-as-new).
  const definitionVersion = definitionVersionFromMemo(workflowInfo().memo);
  const definitionRef = {
    name: definition.name,
    ...(definitionVersion === undefined ? {} : { version: definitionVersion }),
  };

  const runSharded = async (
    stage: StageDefinition,
    count: number,
    deadlineAtMs: number | undefined,
    readySince?: string,
  ) => {
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
      ...(readySince === undefined ? {} : { readySince }),
      books: shardBooks,
      onChange: (shards) => {
        run.shards(stage.id, shards);
        setCurrentDetails(details());
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
        definition: definitionRef,
      },
      () => book.importance(new Date()),
      {
        waiting: () => {
          run.waiting(stage.id, undefined);
          publish();
        },
        started: (admission, attempt) => {
          currentAttempt.set(stage.id, attempt);
          run.started(stage.id, new Date(), admission.allocation, admission.nodeId, attempt);
          publish();
        },
      },
      shardSpec,
    );
    if (outcome.kind === 'shard') {
      const count = fanOutCount(stage, stage.input as JsonValue, outcome.order.shardCount);
      return runSharded(stage, count, deadlineAtMs, outcome.order.readySince);
    }
    if (outcome.kind === 'completed') {
      run.completed(stage.id, new Date(), outcome.result.output, outcome.result.attempt);
    } else run.failedStage(stage.id, new Date(), outcome.message, outcome.attempts);
    publish();
  };

  // Continue-as-new when Temporal suggests it: stop launching, let the stages in flight finish (none is lost,
  // nor any shard result), then hand finished stages, boosts and nonces to the next run.
  let draining = false;
  try {
    for (;;) {
      // A stage is launched once: ready() lists only stages still `pending`, and launched() marks it waiting
      // synchronously with the launch, before any await could let another stage's completion list it again.
      if (!draining) {
        for (const stage of run.ready()) {
          if (!run.launched(stage.id)) continue;
          inFlight.set(
            stage.id,
            runStage(stage).finally(() => inFlight.delete(stage.id)),
          );
        }
      }
      if (inFlight.size === 0) {
        if (draining && run.ready().length > 0) {
          await condition(allHandlersFinished);
          const now = new Date();
          return await continueAsNew<typeof pipelineWorkflow>({
            definition: args.definition,
            ...(args.input === undefined ? {} : { input: args.input }),
            importance,
            carry: {
              stages: run.carry(),
              boosts: book.carry(now),
              nonces: nonces.carry(now),
              runs: (carried?.runs ?? 0) + 1,
            },
          });
        }
        break;
      }
      await Promise.race(inFlight.values());
      if (workflowInfo().continueAsNewSuggested) draining = true;
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: let running stages withdraw or release what they hold, then say so everywhere
    // (stages, `status`, QmState, details) before the run ends as cancelled.
    await Promise.allSettled(inFlight.values());
    run.cancelled(new Date());
    publish();
    throw err;
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
