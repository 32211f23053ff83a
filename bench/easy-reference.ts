/**
 * A plain EASY backfilling simulator, the replay-speed benchmark's baseline (bench only: nothing in `src/`
 * uses it, and it shares no code with the scheduling core). Event-driven: jobs arrive in submit order and
 * wait in one FIFO queue on one machine of `processors`; at each event time the queue head starts while it
 * fits; a blocked head gets a reservation at its shadow time (when enough running jobs will have ended, by
 * their actual run times) and the processors left over then (extra); a later job starts when it fits now
 * and either ends by the shadow time or needs no more than the extra processors.
 */

/** One job of the log. */
export interface ReferenceJob {
  /** Submit time, seconds. */
  readonly submit: number;
  /** Run time, seconds (also what the scheduler is told). */
  readonly runTime: number;
  /** Processors (clamped to the machine). */
  readonly procs: number;
}

/** What the reference measured. */
export interface ReferenceResult {
  /** Jobs run. */
  readonly jobs: number;
  /** Mean wait (start − submit), seconds. */
  readonly meanWaitSeconds: number;
  /** Largest wait, seconds. */
  readonly maxWaitSeconds: number;
  /** Last end, seconds. */
  readonly lastEndSeconds: number;
}

/** Simulates EASY over `jobs` (in submit order) on `processors`. Never throws. */
export function easyReference(jobs: Iterable<ReferenceJob>, processors: number): ReferenceResult {
  const source = jobs[Symbol.iterator]();
  let next = source.next();
  let queue: ReferenceJob[] = [];
  const running: Array<{ end: number; procs: number }> = []; // by end, latest first (pop the earliest)
  let free = processors;
  let count = 0;
  let waitSum = 0;
  let maxWait = 0;
  let lastEnd = 0;
  const start = (job: ReferenceJob, procs: number, t: number): void => {
    const end = t + job.runTime;
    let i = running.length;
    while (i > 0 && (running[i - 1] as { end: number }).end < end) i--;
    running.splice(i, 0, { end, procs });
    free -= procs;
    count++;
    waitSum += t - job.submit;
    maxWait = Math.max(maxWait, t - job.submit);
    lastEnd = Math.max(lastEnd, end);
  };
  for (;;) {
    const arrival = next.done === true ? Infinity : next.value.submit;
    const t = Math.min(
      arrival,
      running.length > 0 ? (running[running.length - 1] as { end: number }).end : Infinity,
    );
    if (t === Infinity) break;
    while (running.length > 0 && (running[running.length - 1] as { end: number }).end <= t)
      free += (running.pop() as { procs: number }).procs;
    while (next.done !== true && next.value.submit <= t) {
      queue.push(next.value);
      next = source.next();
    }
    const procsOf = (j: ReferenceJob): number => Math.min(processors, j.procs);
    while (queue.length > 0 && procsOf(queue[0] as ReferenceJob) <= free) {
      const head = queue.shift() as ReferenceJob;
      start(head, procsOf(head), t);
    }
    if (queue.length < 2) continue;
    // The head's reservation: the earliest end at which enough processors are free, and the extra then.
    const need = procsOf(queue[0] as ReferenceJob);
    let avail = free;
    let shadow = t;
    for (let i = running.length - 1; i >= 0 && avail < need; i--) {
      avail += (running[i] as { procs: number }).procs;
      shadow = (running[i] as { end: number }).end;
    }
    let extra = avail - need;
    const rest: ReferenceJob[] = [queue[0] as ReferenceJob];
    for (let i = 1; i < queue.length; i++) {
      const j = queue[i] as ReferenceJob;
      const p = procsOf(j);
      const endsBefore = t + j.runTime <= shadow;
      if (p <= free && (endsBefore || p <= extra)) {
        if (!endsBefore) extra -= p;
        start(j, p, t);
      } else rest.push(j);
    }
    queue = rest;
  }
  return {
    jobs: count,
    meanWaitSeconds: count > 0 ? waitSum / count : 0,
    maxWaitSeconds: maxWait,
    lastEndSeconds: lastEnd,
  };
}
