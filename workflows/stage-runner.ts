import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  QuartermasterActivities,
  RunStageFailureDetails,
  RunStageInput,
  RunStageResult,
} from '../activities';
import type { ResourceVector, StageDefinition } from '../src/definition/types';
import { NON_RETRYABLE_HANDLER_ERRORS } from '../src/handlers/errors';
import { DECISION_RECHECK_MS } from '../src/admission/constants';
import type { AdmissionDecision } from '../src/admission/types';
import type { ShardRequestSpec } from '../src/scheduling/types';

const DEFAULT_TIMEOUT_SECONDS = 600;

const admission = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '500ms',
    maximumInterval: '10s',
    nonRetryableErrorTypes: ['ReservationEndedError'],
  },
});

/** Where and with what a stage attempt runs. */
export interface Admission {
  taskQueue: string;
  allocation: ResourceVector;
  nodeId?: string;
  reservationKey?: string;
  reduced: boolean;
}

/** Callbacks through which the runner reports progress to the pipeline's state. */
export interface StageRunnerHooks {
  /** The stage waits for resources (with the scheduler's reason when known). */
  waiting(reason: string | undefined): void;
  /** An attempt starts on `admission`. */
  started(admission: Admission, attempt: number): void;
}

/** Decisions signalled by the scheduler, by reservation key (filled by the workflow's signal handler). */
export type DecisionBox = Map<string, AdmissionDecision>;

/** The scheduler's order to split a stage: how many shards, each asking for `perShard`. */
export interface ShardOrder {
  /** Shards the scheduler chose (0 only for an empty item list). */
  shardCount: number;
  /** What each shard should ask for. */
  perShard: ResourceVector;
}

/**
 * The outcome of a stage after all its attempts: completed, failed, or (`shard`, only when the request
 * carried a shard spec) to be split — its whole request was withdrawn and nothing ran.
 */
export type StageOutcome =
  | { kind: 'completed'; result: RunStageResult; admission: Admission }
  | { kind: 'failed'; message: string; attempts: number }
  | { kind: 'shard'; order: ShardOrder; attempts: number };

function failureInfo(err: unknown): { message: string; retryable: boolean } {
  let cause: unknown = err;
  if (err instanceof ActivityFailure) cause = err.cause ?? err;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    const retryable = !cause.nonRetryable && !NON_RETRYABLE_HANDLER_ERRORS.includes(type);
    return { message: `${type}: ${cause.message}`, retryable };
  }
  // Timeouts (a dead worker, a node that never picked the task up) are worth another admission.
  return { message: err instanceof Error ? err.message : String(err), retryable: true };
}

/**
 * Admits one attempt of a stage: stages without resources run at once on the workflow's own task queue;
 * others request a reservation and wait — durably, costing nothing — for the scheduler's decision,
 * re-checking the ledger every few seconds so a missed signal never strands them.
 */
async function admit(
  stage: StageDefinition,
  attempt: number,
  importance: number,
  decisions: DecisionBox,
  hooks: StageRunnerHooks,
  shardIndex?: number,
  shardSpec?: ShardRequestSpec,
): Promise<Admission | ShardOrder> {
  const info = workflowInfo();
  const desired = stage.resources?.desired;
  if (desired === undefined || Object.keys(desired).length === 0) {
    return { taskQueue: info.taskQueue, allocation: {}, reduced: false };
  }
  const key = `${info.workflowId}/${info.runId}/${stage.id}${shardIndex === undefined ? '' : `#${shardIndex}`}/${attempt}`;
  let decision = await admission.requestReservation({
    key,
    workflowId: info.workflowId,
    runId: info.runId,
    stageId: stage.id,
    ...(shardIndex === undefined ? {} : { shardIndex }),
    priority: stage.priority,
    importance,
    desired,
    minimum: stage.resources?.minimum ?? desired,
    ...(shardSpec === undefined ? {} : { shard: shardSpec }),
    ...(stage.expectedSeconds === undefined ? {} : { expectedSeconds: stage.expectedSeconds }),
  });
  try {
    while (decision.kind !== 'grant') {
      if (decision.kind === 'shard' && shardSpec !== undefined) {
        // Split instead: withdraw the whole request (its shards ask on their own) and hand the order back.
        const order = { shardCount: decision.shardCount, perShard: decision.perShard };
        await admission.releaseReservation(key);
        decisions.delete(key);
        return order;
      }
      hooks.waiting(decision.kind === 'pending' ? decision.reason : undefined);
      const signalled = await condition(() => decisions.has(key), DECISION_RECHECK_MS);
      decision = signalled
        ? (decisions.get(key) as AdmissionDecision)
        : await admission.checkReservation(key);
      decisions.delete(key);
    }
  } catch (err) {
    // Cancelled while waiting: withdraw the request so it does not linger in the queue.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => admission.releaseReservation(key));
    throw err;
  }
  return {
    taskQueue: decision.taskQueue,
    allocation: decision.granted,
    nodeId: decision.nodeId,
    reservationKey: key,
    reduced: decision.reduced,
  };
}

/**
 * Runs a stage to its outcome: each attempt is admitted (so a retry may land on another node after a
 * worker died), runs `runStage` on the granted node's task queue with its allocation, and releases its
 * reservation on success, failure or cancellation. Retries follow the stage's retry policy. With a
 * `shardSpec` the request may be answered `shard` (not even its minimum fits, but its slices would): the
 * outcome is then `shard` and the caller runs the shards. A shard is the same run with `base.shard` set
 * (its reservation key and request carry the index) and its slice as `base.input`.
 */
export async function runStageWithAdmission(
  stage: StageDefinition,
  base: Omit<RunStageInput, 'allocation' | 'attempt' | 'reservationKey'>,
  importance: () => number,
  decisions: DecisionBox,
  hooks: StageRunnerHooks,
  shardSpec?: ShardRequestSpec,
): Promise<StageOutcome> {
  const retry = stage.retry ?? {};
  const maxAttempts = retry.maximumAttempts ?? 3;
  let delayMs = (retry.initialIntervalSeconds ?? 1) * 1000;
  const maxDelayMs = (retry.maximumIntervalSeconds ?? 30) * 1000;
  const run = proxyActivities<QuartermasterActivities>({
    startToCloseTimeout: `${stage.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s`,
    heartbeatTimeout: '15s',
    retry: { maximumAttempts: 1 },
  });
  for (let attempt = 1; ; attempt++) {
    let admitted: Admission;
    try {
      const a = await admit(stage, attempt, importance(), decisions, hooks, base.shard?.index, shardSpec);
      if (!('taskQueue' in a)) return { kind: 'shard', order: a, attempts: attempt - 1 };
      admitted = a;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Admission itself failed for good (e.g. an unknown pool, no database): the stage cannot run.
      return {
        kind: 'failed',
        message: `admission failed: ${failureInfo(err).message}`,
        attempts: attempt - 1,
      };
    }
    hooks.started(admitted, attempt);
    const onNode = admitted.nodeId !== undefined;
    const runOn = onNode
      ? proxyActivities<QuartermasterActivities>({
          taskQueue: admitted.taskQueue,
          startToCloseTimeout: `${stage.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s`,
          // A node whose worker is gone never picks the task up: give up and re-admit elsewhere.
          scheduleToStartTimeout: '60s',
          heartbeatTimeout: '15s',
          retry: { maximumAttempts: 1 },
        })
      : run;
    try {
      const result = await runOn.runStage({
        ...base,
        allocation: admitted.allocation,
        attempt,
        ...(admitted.reservationKey ? { reservationKey: admitted.reservationKey } : {}),
      });
      return { kind: 'completed', result, admission: admitted };
    } catch (err) {
      const { message, retryable } = failureInfo(err);
      const details =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
          ? (err.cause.details?.[0] as RunStageFailureDetails | undefined)
          : undefined;
      const attempts = details?.attempt ?? attempt;
      if (!retryable || (maxAttempts > 0 && attempt >= maxAttempts))
        return { kind: 'failed', message, attempts };
    } finally {
      if (admitted.reservationKey) {
        const key = admitted.reservationKey;
        await CancellationScope.nonCancellable(() => admission.releaseReservation(key));
      }
    }
    await sleep(delayMs);
    delayMs = Math.min(maxDelayMs, delayMs * (retry.backoffCoefficient ?? 2));
  }
}
