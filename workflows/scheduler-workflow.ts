import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { QuartermasterActivities } from '../activities';
import { SCHEDULER_TICK_MS } from '../src/admission/constants';
import type { QueueRow } from '../src/admission/types';
import { queueQuery, wakeSignal, type SchedulerQueue } from './messages';

/** Input of `schedulerWorkflow` (carried across continue-as-new). */
export interface SchedulerWorkflowInput {
  /** Cycle when nothing wakes it, ms. @default 5000 */
  tickMs?: number;
  /** The queue from before a continue-as-new, so the `queue` query never goes blank. */
  entries?: QueueRow[];
}

/** Tick while nothing waits, ms. */
const IDLE_TICK_MS = 60_000;

const { scheduleCycle } = proxyActivities<QuartermasterActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '500ms', maximumInterval: '10s' },
});

/**
 * The singleton scheduler (fixed workflow id per namespace: Temporal's one-run-per-id rule is the leader
 * election). Each `wake` signal or tick runs one `scheduleCycle` activity; wakes that arrive during a cycle
 * coalesce into one more. Exposes the ranked queue through the `queue` query and continues-as-new when
 * Temporal suggests it.
 */
export async function schedulerWorkflow(input: SchedulerWorkflowInput = {}): Promise<void> {
  const tickMs = input.tickMs ?? SCHEDULER_TICK_MS;
  let woken = true;
  let cycles = 0;
  let lastCycleAt: string | null = null;
  let entries: QueueRow[] = input.entries ?? [];
  setHandler(wakeSignal, () => {
    woken = true;
  });
  setHandler(queueQuery, (): SchedulerQueue => ({ lastCycleAt, cycles, entries }));

  let idle = false;
  for (;;) {
    // Nothing waited at the last cycle: sleep until woken (a long safety tick still expires lapsed leases).
    await condition(() => woken, idle ? IDLE_TICK_MS : tickMs);
    woken = false;
    const report = await scheduleCycle();
    cycles += 1;
    lastCycleAt = new Date().toISOString();
    entries = report.queue;
    // Grants were rejected by a racing change: look again at once rather than at the next tick.
    if (report.rejected > 0) woken = true;
    idle = report.waiting === 0;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof schedulerWorkflow>({ tickMs, entries });
    }
  }
}
