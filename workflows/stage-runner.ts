import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  QuartermasterActivities,
  ReleaseReservationInput,
  RunStageFailureDetails,
  RunStageInput,
  RunStageResult,
} from '../activities';
import {
  admissionTaskQueue,
  NODE_START_TIMEOUT_MS,
  RUN_HEARTBEAT_TIMEOUT_MS,
  WAIT_HEARTBEAT_TIMEOUT_MS,
} from '../src/admission/constants';
import { requestKey } from '../src/admission/lifecycle';
import type { AdmissionDecision, AdmissionRequest } from '../src/admission/types';
import type { ResourceVector, StageDefinition } from '../src/definition/types';
import { NON_RETRYABLE_HANDLER_ERRORS } from '../src/handlers/errors';
import { LOCAL_ACTIVITIES_PATCH } from './patches';
import type { ShardRequestSpec } from '../src/scheduling/types';

const DEFAULT_TIMEOUT_SECONDS = 600;

/** Errors of the admission activities that no retry can fix (a bad request, an unknown pool, no ledger). */
const ADMISSION_NON_RETRYABLE = [
  'InvalidLedgerArgumentError',
  'InvalidQuantityError',
  'UnknownPoolError',
  'LedgerNotConfiguredError',
  'UnsatisfiableRequestError',
  'RequestWithdrawnError',
];

/**
 * The waiting activity: one per admission, however long the wait (it learns of its decision from the
 * ledger and heartbeats meanwhile), so a wait costs a bounded number of history events. Cancelled, the
 * workflow withdraws the attempt's requests itself at once (`withdrawRequest`) rather than waiting for the
 * activity's next heartbeat; the activity then stops.
 */
function waitingActivities(taskQueue: string) {
  return proxyActivities<QuartermasterActivities>({
    taskQueue: admissionTaskQueue(taskQueue),
    startToCloseTimeout: '365d',
    heartbeatTimeout: WAIT_HEARTBEAT_TIMEOUT_MS,
    retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ADMISSION_NON_RETRYABLE },
  });
}

/**
 * The fast path, inside the workflow task that reaches the stage: no server round trip, and an uncontended
 * stage's `runStage` is scheduled by the same task. One try: whatever goes wrong, `awaitReservation` (which
 * retries and reports errors) takes the same request over.
 */
const local = proxyLocalActivities<QuartermasterActivities>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 1 },
});

const ledger = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '500ms',
    maximumInterval: '10s',
    nonRetryableErrorTypes: ADMISSION_NON_RETRYABLE,
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

/** The pipeline definition a stage belongs to, for its execution records (and its learned run time's key). */
export interface DefinitionRef {
  /** The definition's name. */
  name: string;
  /** Its registered version, when the pipeline was started from the registry. */
  version?: number;
}

/** What a stage runs with, besides its allocation and attempt: `runStage`'s input, plus its definition. */
export type StageBase = Omit<RunStageInput, 'allocation' | 'attempt' | 'reservationKey'> & {
  /** The pipeline definition, recorded with each attempt. @default unknown */
  definition?: DefinitionRef;
};

/** Callbacks through which the runner reports progress to the pipeline's state. */
export interface StageRunnerHooks {
  /** The stage waits for resources (its reasons arrive later, by `admissionProgress` signal). */
  waiting(): void;
  /** An attempt starts on `admission`. */
  started(admission: Admission, attempt: number): void;
}

/** The scheduler's order to split a stage: how many shards, each asking for `perShard`. */
export interface ShardOrder {
  /** Shards the scheduler chose (0 only for an empty item list). */
  shardCount: number;
  /** What each shard should ask for. */
  perShard: ResourceVector;
  /** When the stage's withdrawn request was made (ISO-8601): its shards keep that place in the queue. */
  readySince: string;
}

/**
 * The outcome of a stage after all its attempts: completed, failed, or (`shard`, only when the request
 * carried a shard spec) to be split — its whole request was withdrawn and nothing ran.
 */
export type StageOutcome =
  | { kind: 'completed'; result: RunStageResult; admission: Admission }
  | { kind: 'failed'; message: string; attempts: number }
  | { kind: 'shard'; order: ShardOrder; attempts: number };

/**
 * How an attempt's `runStage` ended when it did not complete:
 * - `not-started`: the handler never ran (the grant ended before the node started it, or the node never
 *   picked it up): ask again, elsewhere, at no attempt's cost;
 * - `node-lost`: the node stopped heartbeating mid-run (its worker died): an attempt, retried elsewhere;
 * - `failed`: the handler failed (retryable or not).
 */
type AttemptFailure =
  | { kind: 'not-started'; message: string; avoidNode?: string }
  | { kind: 'node-lost'; message: string; avoidNode?: string }
  | { kind: 'failed'; message: string; retryable: boolean; attempt?: number };

function classify(err: unknown, nodeId: string | undefined): AttemptFailure {
  const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  if (cause instanceof TimeoutFailure) {
    const message = `${cause.timeoutType ?? 'timeout'} timeout${nodeId === undefined ? '' : ` on node ${nodeId}`}`;
    if (cause.timeoutType === 'SCHEDULE_TO_START')
      return { kind: 'not-started', message, ...(nodeId === undefined ? {} : { avoidNode: nodeId }) };
    if (cause.timeoutType === 'HEARTBEAT')
      return { kind: 'node-lost', message, ...(nodeId === undefined ? {} : { avoidNode: nodeId }) };
    return { kind: 'failed', message, retryable: true };
  }
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    if (type === 'ReservationEndedError')
      return { kind: 'not-started', message: `${type}: ${cause.message}` };
    const details = cause.details?.[0] as RunStageFailureDetails | undefined;
    return {
      kind: 'failed',
      message: `${type}: ${cause.message}`,
      retryable: !cause.nonRetryable && !NON_RETRYABLE_HANDLER_ERRORS.includes(type),
      ...(details?.attempt === undefined ? {} : { attempt: details.attempt }),
    };
  }
  return { kind: 'failed', message: err instanceof Error ? err.message : String(err), retryable: true };
}

function admissionFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Admits one attempt of a stage: stages without resources run at once on the workflow's own task queue;
 * others try the fast path (`requestFastPath`, a local activity: granted at once when alone and fitting), and
 * otherwise wait inside one `awaitReservation` activity for a grant or a shard order.
 */
async function admit(
  stage: StageDefinition,
  definition: DefinitionRef | undefined,
  attempt: number,
  renewal: number,
  importance: number,
  shardIndex: number | undefined,
  shardSpec: ShardRequestSpec | undefined,
  avoidNode: string | undefined,
  readySince: string | undefined,
): Promise<Admission | ShardOrder> {
  const info = workflowInfo();
  const desired = stage.resources?.desired;
  if (desired === undefined || Object.keys(desired).length === 0) {
    return { taskQueue: info.taskQueue, allocation: {}, reduced: false };
  }
  const key = requestKey(info.workflowId, info.runId, stage.id, attempt, shardIndex, renewal);
  const request: AdmissionRequest = {
    key,
    attempt,
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
    ...(avoidNode === undefined ? {} : { avoidNode }),
    ...(stage.resources?.waitForLargerNodes === true ? { waitForLargerNodes: true } : {}),
    ...(readySince === undefined ? {} : { readySince }),
    handler: stage.handler,
    ...(definition === undefined ? {} : { definitionName: definition.name }),
    ...(definition?.version === undefined ? {} : { definitionVersion: definition.version }),
  };
  let decision: AdmissionDecision;
  try {
    const fast = patched(LOCAL_ACTIVITIES_PATCH)
      ? await local.requestFastPath(request).catch((err: unknown) => {
          if (isCancellation(err)) throw err;
          return null; // the waiting activity takes the request over and reports what went wrong
        })
      : null;
    decision = fast ?? (await waitingActivities(info.taskQueue).awaitReservation(request));
  } catch (err) {
    // Cancelled while waiting: withdraw this attempt's requests (and renewals) now, whatever the activity
    // is doing; a grant that raced the cancel is withdrawn too.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => ledger.withdrawRequest(key));
    throw err;
  }
  if (decision.kind === 'shard')
    return { shardCount: decision.shardCount, perShard: decision.perShard, readySince: decision.requestedAt };
  return {
    taskQueue: decision.taskQueue,
    allocation: decision.granted,
    nodeId: decision.nodeId,
    reservationKey: decision.key,
    reduced: decision.reduced,
  };
}

/**
 * Runs a stage to its outcome. Each attempt is admitted (so a retry may land on another node after a
 * worker died), runs `runStage` on the granted node's task queue with its allocation, and releases its
 * reservation once the handler has stopped — on success, failure or cancellation (cancellation waits for
 * `runStage` to finish, so capacity is never released under a handler that still runs). Only the handler
 * ends a stage: a grant that ended before its stage ran, or a node that never picked it up, means "ask
 * again" (elsewhere when another node fits) and costs no attempt; a node lost mid-run costs one. Retries
 * follow the stage's retry policy. With a `shardSpec` the request may be answered `shard`: the outcome is
 * then `shard` and the caller runs the shards. A shard is the same run with `base.shard` set.
 */
export async function runStageWithAdmission(
  stage: StageDefinition,
  stageBase: StageBase,
  importance: () => number,
  hooks: StageRunnerHooks,
  shardSpec?: ShardRequestSpec,
  readySince?: string,
): Promise<StageOutcome> {
  const { definition, ...base } = stageBase;
  const retry = stage.retry ?? {};
  const maxAttempts = retry.maximumAttempts ?? 3;
  let delayMs = (retry.initialIntervalSeconds ?? 1) * 1000;
  const maxDelayMs = (retry.maximumIntervalSeconds ?? 30) * 1000;
  const timeout = `${stage.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s`;
  const run = proxyActivities<QuartermasterActivities>({
    startToCloseTimeout: timeout,
    heartbeatTimeout: RUN_HEARTBEAT_TIMEOUT_MS,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  let attempt = 1;
  let renewal = 0;
  let avoidNode: string | undefined;
  let notStartedDelayMs = 1000;
  for (;;) {
    let admitted: Admission;
    hooks.waiting();
    try {
      const a = await admit(
        stage,
        definition,
        attempt,
        renewal,
        importance(),
        base.shard?.index,
        shardSpec,
        avoidNode,
        // Only the first request keeps the earlier place: a retry queues anew.
        attempt === 1 ? readySince : undefined,
      );
      if (!('taskQueue' in a)) return { kind: 'shard', order: a, attempts: attempt - 1 };
      admitted = a;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Admission itself failed for good (e.g. an unknown pool, no database): the stage cannot run.
      return { kind: 'failed', message: `admission failed: ${admissionFailure(err)}`, attempts: attempt - 1 };
    }
    hooks.started(admitted, attempt);
    const runOn =
      admitted.nodeId === undefined
        ? run
        : proxyActivities<QuartermasterActivities>({
            taskQueue: admitted.taskQueue,
            startToCloseTimeout: timeout,
            // Shorter than the lease: a grant never lapses while its stage waits for the node to pick it up.
            scheduleToStartTimeout: NODE_START_TIMEOUT_MS,
            heartbeatTimeout: RUN_HEARTBEAT_TIMEOUT_MS,
            cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            retry: { maximumAttempts: 1 },
          });
    let failure: AttemptFailure;
    // How this attempt ended, for its execution record (written by the release).
    let ended: NonNullable<ReleaseReservationInput['outcome']> = 'failed';
    // A completed `runStage` releases its reservation itself as the handler returns (no release activity).
    let releasedByStage = false;
    try {
      const result = await runOn.runStage({
        ...base,
        allocation: admitted.allocation,
        attempt,
        ...(admitted.reservationKey ? { reservationKey: admitted.reservationKey } : {}),
      });
      ended = 'completed';
      releasedByStage = result.released === true;
      return { kind: 'completed', result, admission: admitted };
    } catch (err) {
      if (isCancellation(err)) {
        ended = 'cancelled';
        throw err;
      }
      failure = classify(err, admitted.nodeId);
      // Nothing ran: the same attempt asks again, and its next request's record replaces this one. A handler
      // that failed because its workflow was cancelled (it threw on its abort) was cancelled, not failed.
      if (failure.kind === 'not-started' || CancellationScope.current().consideredCancelled)
        ended = 'cancelled';
    } finally {
      if (admitted.reservationKey && !releasedByStage) {
        const release: ReleaseReservationInput = { key: admitted.reservationKey, outcome: ended };
        await CancellationScope.nonCancellable(() => ledger.releaseReservation(release));
      }
    }
    avoidNode = failure.kind === 'failed' ? undefined : failure.avoidNode;
    if (failure.kind === 'not-started') {
      // Nothing ran: the same attempt asks again with a fresh key, after a short, growing pause.
      renewal += 1;
      await sleep(notStartedDelayMs);
      notStartedDelayMs = Math.min(maxDelayMs, notStartedDelayMs * 2);
      continue;
    }
    const attempts = failure.kind === 'failed' ? (failure.attempt ?? attempt) : attempt;
    const retryable = failure.kind === 'node-lost' || failure.retryable;
    if (!retryable || (maxAttempts > 0 && attempt >= maxAttempts))
      return { kind: 'failed', message: failure.message, attempts };
    await sleep(delayMs);
    delayMs = Math.min(maxDelayMs, delayMs * (retry.backoffCoefficient ?? 2));
    attempt += 1;
    renewal = 0;
  }
}
