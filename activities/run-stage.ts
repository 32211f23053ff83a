import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ResourceVector } from '../src/definition/types';
import { NON_RETRYABLE_HANDLER_ERRORS } from '../src/handlers/errors';
import type { HandlerRegistry } from '../src/handlers/registry';
import type { JsonValue, ShardContext } from '../src/handlers/types';
import type { LazyDatabase } from '../src/ledger/lazy';
import type { Database } from '../src/ledger/db';
import { markRunning, releaseReservation, renewLease, type Allocation } from '../src/ledger/reservations';
import {
  FENCE_MARGIN_MS,
  LEASE_RENEW_EVERY_MS,
  SUCCESSOR_GATE_MAX_MS,
  SUCCESSOR_GATE_MAX_SHARE,
  SUCCESSOR_GATE_RECHECK_MS,
} from '../src/admission/constants';
import { allocationChangedSignal, type AllocationChange } from '../src/admission/messages';
import { AllocationOffers } from './allocation-offers';

/** Input of the `runStage` activity: everything a handler needs, as JSON. */
export interface RunStageInput {
  workflowId: string;
  stageId: string;
  handler: string;
  input: JsonValue;
  deps: Record<string, JsonValue>;
  pipelineInput: JsonValue;
  allocation: ResourceVector;
  /** The stage's attempt (1, 2, …): counted by the workflow, which re-admits every retry. */
  attempt: number;
  shard?: ShardContext;
  /** The reservation whose lease this run renews while it runs; absent for stages without resources. */
  reservationKey?: string;
}

/** Result of `runStage`: the handler's output and the attempt that produced it. */
export interface RunStageResult {
  output: JsonValue;
  attempt: number;
  /**
   * True when `runStage` released the reservation itself (recorded `completed`) as the handler returned:
   * its capacity went back without waiting for the workflow's next task and a release activity. Absent
   * or false: the workflow releases it.
   */
  released?: boolean;
}

/** Details attached to every failure `runStage` raises, so the workflow can report attempts. */
export interface RunStageFailureDetails {
  attempt: number;
  stageId: string;
}

/** What `runStage` needs. */
export interface RunStageDependencies {
  registry: HandlerRegistry;
  /** The ledger, to renew leases; only used for stages with a reservation. */
  ledger?: LazyDatabase;
  /** Lease length each renewal asks for, ms. */
  leaseMs: number;
  /**
   * Hands capacity this stage returned (its release at the end, an accepted smaller allocation) to the waiting
   * queue (`handOff`). Best effort, never throws. @default none: the scheduler finds it at its tick
   */
  handOff?: (db: Database) => Promise<void>;
  /** How often the lease is renewed, ms. @default min(LEASE_RENEW_EVERY_MS, leaseMs / 3) */
  renewEveryMs?: number;
  /**
   * The handler is aborted this long before its lease would end when renewals fail (fencing), ms.
   * @default min(FENCE_MARGIN_MS, leaseMs / 4)
   */
  fenceMarginMs?: number;
  /**
   * The longest a successor grant's stage waits at the gate, ms; never more than SUCCESSOR_GATE_MAX_SHARE of
   * the activity's start-to-close timeout. @default SUCCESSOR_GATE_MAX_MS
   */
  gateMaxMs?: number;
}

/** How often a running handler heartbeats (Temporal throttles further). */
const HEARTBEAT_EVERY_MS = 1000;

/**
 * Marks the reservation running; a successor grant still behind its predecessor waits here — at the gate,
 * heartbeating, its lease renewed by each re-check — until the predecessor's end promotes it (announced on
 * the ledger's decision channel; re-checked every {@link SUCCESSOR_GATE_RECHECK_MS} in case a notification is
 * lost). Cancelling the activity ends the wait; after `gateMaxMs` the stage gives its grant back (released,
 * recorded as never run) and fails as if the grant had ended, so the workflow asks again.
 * @returns the started allocation and when the touch that started it was sent (for fencing).
 * @throws what `markRunning` throws (e.g. LeaseExpiredError: the grant ended while waiting);
 *   SuccessorGateTimeoutError after `gateMaxMs`; CancelledFailure.
 */
async function startOrWaitBehind(
  db: Database,
  key: string,
  leaseMs: number,
  attempt: number,
  gateMaxMs: number,
): Promise<{ held: Allocation; askedAt: number }> {
  let askedAt = performance.now();
  let held = await markRunning(db, key, leaseMs);
  if (held.behind === null) return { held, askedAt };
  const ctx = Context.current();
  // Subscribed before the next look, so a promotion between the two is latched, not lost.
  const sub = await db.decisions.subscribe(key);
  const giveUpAt = performance.now() + gateMaxMs;
  try {
    for (;;) {
      askedAt = performance.now();
      held = await markRunning(db, key, leaseMs);
      if (held.behind === null) return { held, askedAt };
      ctx.heartbeat({ attempt, behind: held.behind });
      const woke = await sub.next(
        Math.max(0, Math.min(SUCCESSOR_GATE_RECHECK_MS, giveUpAt - performance.now())),
        ctx.cancellationSignal,
      );
      if (woke === 'aborted') throw new CancelledFailure(`cancelled while waiting behind ${held.behind}`);
      if (performance.now() >= giveUpAt) {
        await releaseReservation(db, key, undefined, { outcome: 'cancelled' });
        throw Object.assign(
          new Error(
            `waited ${gateMaxMs} ms behind ${held.behind}, which has not ended; the grant is given back`,
          ),
          { name: 'SuccessorGateTimeoutError' },
        );
      }
    }
  } finally {
    sub.close();
  }
}

/**
 * Builds the `runStage` activity over a handler registry: marks the reservation running, runs the named
 * handler with its context, heartbeats while it runs (so cancellation reaches it) and renews the lease
 * every few seconds. A renewal that brings a shrink offer hands it to the handler's `onAllocationOffer`
 * listeners (see {@link AllocationOffers}); an accepted one updates the live `allocation` and hands the
 * capacity it freed to the waiting queue. Leases are on the database's clock; the node fences itself on its own monotonic clock: when
 * renewals fail it aborts the handler {@link FENCE_MARGIN_MS} before the lease would end, so a node cut off
 * from the ledger never runs on capacity granted elsewhere. A lost lease aborts the handler too.
 * Throws (as Temporal failures): `ReservationEndedError` non-retryable when the reservation ended before the
 * handler started (nothing ran: the workflow asks again at no attempt's cost); `UnknownHandlerError` /
 * `InvalidStageInputError` non-retryable; `LeaseLostError` and any other handler error retryable; all with
 * `{ attempt, stageId }` details.
 */
export function createRunStage(
  deps: RunStageDependencies,
): (input: RunStageInput) => Promise<RunStageResult> {
  /**
   * Releases a completed stage's reservation here, as the handler returned (recording `completed`), and hands
   * its capacity to the waiting queue: the next stage is admitted a workflow task and an activity sooner. Best effort: on any error the workflow's own release (idempotent) does it.
   */
  async function releaseAtEnd(db: Database, key: string): Promise<boolean> {
    const ctx = Context.current();
    try {
      const { changed, pending } = await releaseReservation(db, key, undefined, { outcome: 'completed' });
      if (changed && pending && deps.handOff) await deps.handOff(db);
      return true;
    } catch (err) {
      ctx.log.warn('release at the end of the stage failed; the workflow releases it', {
        key,
        error: String(err),
      });
      return false;
    }
  }

  return async function runStage(input: RunStageInput): Promise<RunStageResult> {
    const ctx = Context.current();
    const { attempt } = input;
    const details: RunStageFailureDetails = { attempt, stageId: input.stageId };
    const abort = new AbortController();
    const onCancel = (): void => abort.abort(ctx.cancellationSignal.reason);
    ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    let leaseLost: Error | undefined;
    const key = input.reservationKey;
    const db = key !== undefined && deps.ledger ? await deps.ledger.get() : undefined;
    const renewEveryMs = deps.renewEveryMs ?? Math.min(LEASE_RENEW_EVERY_MS, deps.leaseMs / 3);
    const fenceMarginMs = deps.fenceMarginMs ?? Math.min(FENCE_MARGIN_MS, deps.leaseMs / 4);
    // When this node must stop on its own, on its monotonic clock (immune to wall-clock skew).
    let fenceAt = Infinity;
    if (db && key) {
      try {
        const { held, askedAt } = await startOrWaitBehind(
          db,
          key,
          deps.leaseMs,
          input.attempt,
          Math.min(
            deps.gateMaxMs ?? SUCCESSOR_GATE_MAX_MS,
            ctx.info.startToCloseTimeoutMs * SUCCESSOR_GATE_MAX_SHARE,
          ),
        );
        fenceAt = askedAt + held.leaseRemainingMs - fenceMarginMs;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (
          name === 'LeaseExpiredError' ||
          name === 'IllegalTransitionError' ||
          name === 'UnknownReservationError' ||
          name === 'SuccessorGateTimeoutError'
        ) {
          // Nothing ran: the grant ended before this node started the stage. The workflow asks again.
          throw ApplicationFailure.create({
            message: `reservation ${key} ended before the stage started: ${(err as Error).message}`,
            type: 'ReservationEndedError',
            nonRetryable: true,
            details: [details],
          });
        }
        throw err;
      }
    }
    const beat = setInterval(() => ctx.heartbeat({ attempt }), HEARTBEAT_EVERY_MS);
    // The handler's live allocation: an accepted shrink updates it in place.
    const allocation = { ...input.allocation };
    const offers =
      db && key
        ? new AllocationOffers({
            db,
            key,
            allocation,
            log: ctx.log,
            onAccepted: async (result) => {
              if (deps.handOff) await deps.handOff(db);
              // The pipeline's status shows the new allocation (a shard's is not in its stage table).
              if (input.shard === undefined) {
                const change: AllocationChange = {
                  stageId: input.stageId,
                  attempt,
                  allocation: result.granted,
                };
                await ctx.client.workflow.getHandle(input.workflowId).signal(allocationChangedSignal, change);
              }
            },
          })
        : undefined;
    const fence =
      db && key
        ? setInterval(
            () => {
              if (leaseLost === undefined && performance.now() >= fenceAt) {
                leaseLost = Object.assign(
                  new Error(`could not renew its lease; fenced ${fenceMarginMs} ms before it ends`),
                  {
                    name: 'LeaseFencedError',
                  },
                );
                abort.abort(leaseLost);
              }
            },
            Math.min(1000, fenceMarginMs / 2),
          )
        : undefined;
    const renew =
      db && key
        ? setInterval(() => {
            const askedAt = performance.now();
            renewLease(db, key, deps.leaseMs).then(
              (held) => {
                fenceAt = askedAt + held.leaseRemainingMs - fenceMarginMs;
                offers?.receive(held.offer);
              },
              (err: unknown) => {
                const name = (err as { name?: string }).name;
                // A transient database error is retried at the next renewal; a lapsed lease is final.
                if (
                  name === 'LeaseExpiredError' ||
                  name === 'IllegalTransitionError' ||
                  name === 'UnknownReservationError'
                ) {
                  leaseLost = err as Error;
                  abort.abort(err);
                }
              },
            );
          }, renewEveryMs)
        : undefined;
    try {
      const handler = deps.registry.get(input.handler);
      const output = await handler({
        input: input.input,
        deps: input.deps,
        pipelineInput: input.pipelineInput,
        allocation,
        ...(input.shard ? { shard: input.shard } : {}),
        attempt,
        signal: abort.signal,
        workflowId: input.workflowId,
        stageId: input.stageId,
        // Stages without a reservation are never offered anything: their listeners are simply never called.
        onAllocationOffer: offers ? offers.subscribe : () => () => undefined,
      });
      if (leaseLost) throw leaseLost;
      const result: RunStageResult = { output: output === undefined ? null : output, attempt };
      if (db && key) {
        // No renewal may race the release (it would find the lease ended and abort a finished handler).
        if (renew) clearInterval(renew);
        if (fence) clearInterval(fence);
        result.released = await releaseAtEnd(db, key);
      }
      return result;
    } catch (err) {
      if (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) throw err;
      const e = leaseLost
        ? Object.assign(new Error(`lease of ${key} lost: ${leaseLost.message}`), { name: 'LeaseLostError' })
        : err instanceof Error
          ? err
          : new Error(String(err));
      throw ApplicationFailure.create({
        message: e.message,
        type: e.name,
        nonRetryable: NON_RETRYABLE_HANDLER_ERRORS.includes(e.name),
        details: [details],
        cause: e,
      });
    } finally {
      offers?.close();
      clearInterval(beat);
      if (renew) clearInterval(renew);
      if (fence) clearInterval(fence);
      ctx.cancellationSignal.removeEventListener('abort', onCancel);
    }
  };
}
