import type { Client } from '@temporalio/client';
import { INLINE_CYCLES_MAX, SCHEDULER_STALE_MS } from '../src/admission/constants';
import { runLedgerCycle, type LedgerCycleOptions } from '../src/admission/ledger-cycle';
import { wakeSignal } from '../src/admission/messages';
import { raiseWake, wakePending } from '../src/ledger/admission';
import { tryCycleLock } from '../src/ledger/cycle-lock';
import type { Database } from '../src/ledger/db';

/** Where the singleton scheduler runs. */
export interface SchedulerAddress {
  /** Its workflow id. */
  workflowId: string;
  /** The task queue it runs on. */
  taskQueue: string;
}

/**
 * Wakes the singleton scheduler (starting it when it is not running) so it runs a cycle now: after a request
 * is recorded, a boost lands, a running stage accepted a smaller allocation, or a release's inline cycles
 * left work behind.
 */
export async function wakeScheduler(client: Client, scheduler: SchedulerAddress): Promise<void> {
  await client.workflow.signalWithStart('schedulerWorkflow', {
    workflowId: scheduler.workflowId,
    taskQueue: scheduler.taskQueue,
    args: [{}],
    signal: wakeSignal,
    signalArgs: [],
    staticSummary: 'Quartermaster scheduler: admits stages by Workflow Score',
  });
}

/**
 * Says the waiting queue changed (a request that no cycle could admit now started waiting): raises the wake
 * flag, which the running cycle (if any) reads after unlocking and the scheduler's next refresh sees; starts
 * the scheduler when it seems not to run. No cycle here.
 * @throws DatabaseUnavailableError; the client's error when the signal fails.
 */
export async function markQueueChanged(
  db: Database,
  client: Client,
  scheduler: SchedulerAddress,
): Promise<void> {
  const state = await raiseWake(db, { schedulerStaleMs: SCHEDULER_STALE_MS });
  if (state.schedulerStale) await wakeScheduler(client, scheduler);
}

/** The cycle options of an inline hand-off (what the scheduler's quick cycles use). */
export type HandOffCycleOptions = Omit<LedgerCycleOptions, 'refresh' | 'byScheduler'>;

/** What {@link handOff} did. */
export interface HandOffResult {
  /** Cycles it ran itself (0: nothing was pending, or another cycle held the lock and will see the flag). */
  cycles: number;
  /** Grants those cycles committed. */
  granted: number;
  /** It signalled the scheduler (not running, work left after {@link INLINE_CYCLES_MAX} cycles, or an error). */
  signalled: boolean;
  /** Why the hand-off stopped early (the ledger was away): the scheduler was signalled instead. */
  error?: string;
}

/**
 * After capacity returned (a release, a withdrawal; `onlyIfPending`) or a request started waiting (`false`):
 * decides at once, without a round trip through the scheduler workflow. Raises the wake flag, then, when no other cycle holds the cycle lock,
 * runs the scheduler's quick cycle right here (the same {@link runLedgerCycle}: the same decisions, the same
 * one-transaction commit and NOTIFY), again while the flag went up meanwhile, up to
 * {@link INLINE_CYCLES_MAX} times. When another cycle holds the lock nothing more is needed: every cycle reads
 * the flag once it has unlocked (the raise happens before the try, so it is never missed). The scheduler is
 * signalled only when it seems not to run, when work remains after the inline cycles (it then runs back to
 * back), or when the hand-off failed. Nothing pending: one statement, nothing else. Best effort, never throws:
 * whatever it could not do, the scheduler's next cycle (at the latest its tick) does.
 */
export async function handOff(
  db: Database,
  client: Client,
  scheduler: SchedulerAddress,
  cycle: HandOffCycleOptions,
  onlyIfPending = true,
): Promise<HandOffResult> {
  const result: HandOffResult = { cycles: 0, granted: 0, signalled: false };
  const signal = async (): Promise<void> => {
    result.signalled = true;
    await wakeScheduler(client, scheduler);
  };
  try {
    const state = await raiseWake(db, { onlyIfPending, schedulerStaleMs: SCHEDULER_STALE_MS });
    if (!state.raised) return result;
    if (state.schedulerStale) await signal();
    for (;;) {
      const ran = await tryCycleLock(db, () =>
        runLedgerCycle(db, { ...cycle, refresh: 'never', byScheduler: false }),
      );
      if (!ran.ran) return result; // the holder reads the flag once it unlocks
      result.cycles += 1;
      result.granted += ran.value.committed.granted.length;
      const again = ran.value.committed.rejected.length > 0 || (await wakePending(db));
      if (!again) return result;
      if (result.cycles >= INLINE_CYCLES_MAX) break;
    }
    if (!result.signalled) await signal();
  } catch (err) {
    result.error = String(err);
    if (!result.signalled) await signal().catch(() => undefined);
  }
  return result;
}
