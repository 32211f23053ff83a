import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { QuartermasterActivities } from '../activities';
import {
  admissionTaskQueue,
  QUEUE_REFRESH_MS,
  QUIET_QUEUE_REFRESH_MS,
  SCHEDULER_TICK_MS,
} from '../src/admission/constants';
import type { QueueRow } from '../src/admission/types';
import { schedulerDetails } from '../src/pipeline/scheduler-details';
import { DESCRIPTIONS, queueQuery, wakeSignal, type SchedulerQueue } from './messages';

/** Input of `schedulerWorkflow` (carried across continue-as-new). */
export interface SchedulerWorkflowInput {
  /** Cycle when nothing wakes it, ms. @default 5000 */
  tickMs?: number;
  /** The queue from before a continue-as-new, so the `queue` query never goes blank. */
  entries?: QueueRow[];
}

// On the admission queue (a worker with thousands of slots): no amount of queued stage work on the shared
// queue can starve the cycle, and the scheduler's workflow tasks stay short (a local activity would run the
// whole cycle inside one workflow task).
function cycleActivities(taskQueue: string) {
  return proxyActivities<QuartermasterActivities>({
    taskQueue: admissionTaskQueue(taskQueue),
    startToCloseTimeout: '60s',
    retry: { initialInterval: '500ms', maximumInterval: '10s' },
  });
}

/**
 * The singleton scheduler (fixed workflow id per namespace: Temporal's one-run-per-id rule is the leader
 * election). Its input is the ledger, not its signals: each `wake` (sent at most once per cycle — the ledger's
 * wake flag deduplicates them) or tick runs one `scheduleCycle` activity, and a cycle during which something
 * changed is followed by another at once (back-to-back while work is pending). The tick is short
 * ({@link SCHEDULER_TICK_MS}) even when idle, so lapsed leases are reclaimed within lease + tick. Each cycle adds
 * a handful of events; it continues-as-new when Temporal suggests it. Exposes the ranked queue through the
 * `queue` query.
 */
export async function schedulerWorkflow(input: SchedulerWorkflowInput = {}): Promise<void> {
  const tickMs = input.tickMs ?? SCHEDULER_TICK_MS;
  let woken = true;
  let changed = true; // something happened since the queue was last refreshed (not only time passing)
  let cycles = 0;
  let lastCycleAt: string | null = null;
  let entries: QueueRow[] = input.entries ?? [];
  setHandler(
    wakeSignal,
    () => {
      woken = true;
      changed = true;
    },
    { description: DESCRIPTIONS.wake },
  );
  setHandler(queueQuery, (): SchedulerQueue => ({ lastCycleAt, cycles, entries }), {
    description: DESCRIPTIONS.queue,
  });

  const { scheduleCycle } = cycleActivities(workflowInfo().taskQueue);
  let queueAt = -Infinity;
  for (;;) {
    await condition(() => woken, tickMs);
    woken = false;
    // The queue (wait notes, estimates, shrink offers, the `queue` query's rows) is refreshed at most every
    // QUEUE_REFRESH_MS while things change, and every QUIET_QUEUE_REFRESH_MS while only time passes: its rows
    // are the bulk of a cycle's history.
    const sinceRefresh = Date.now() - queueAt;
    // Requests and releases decide inline and rarely signal: whether the queue changed meanwhile is the
    // ledger's to say ('if-changed').
    const withQueue =
      sinceRefresh < QUEUE_REFRESH_MS
        ? false
        : changed || sinceRefresh >= QUIET_QUEUE_REFRESH_MS
          ? true
          : 'if-changed';
    if (withQueue === true) changed = false; // a wake during the cycle sets it again
    const report = await scheduleCycle({ withQueue });
    const refreshed = report.refreshed ?? withQueue === true;
    if (report.granted > 0 || report.expired > 0 || report.rejected > 0 || report.shrinkOffers > 0)
      changed = true;
    cycles += 1;
    lastCycleAt = new Date().toISOString();
    if (refreshed) {
      entries = report.queue;
      queueAt = Date.now();
      // The Web UI's current details: the last cycle and the top of the queue (no history event).
      setCurrentDetails(schedulerDetails({ lastCycleAt, cycles, entries }));
    } else if (report.waiting === 0) entries = []; // nothing waits: the queue is empty whatever the last refresh said
    // Something changed during the cycle (a request or release, a grant that lost a race): again at once.
    if (report.again) woken = true;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof schedulerWorkflow>({ tickMs, entries });
    }
  }
}
