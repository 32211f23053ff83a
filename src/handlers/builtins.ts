import { Worker } from 'node:worker_threads';
import { DeliberateFailureError, InvalidStageInputError } from './errors';
import type { JsonValue, StageContext, StageHandlerDefinition } from './types';

function field(handler: string, input: JsonValue, name: string): JsonValue | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidStageInputError(handler, name, 'is missing: input must be an object');
  }
  return input[name];
}

function nonNegative(handler: string, input: JsonValue, name: string, fallback?: number): number {
  const value = field(handler, input, name) ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidStageInputError(
      handler,
      name,
      `must be a finite number ≥ 0 (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `qm.echo`: returns `{ input, deps, pipelineInput, allocation, shard? }` — handy for wiring checks. */
const echo: StageHandlerDefinition = {
  name: 'qm.echo',
  run: ({ input, deps, pipelineInput, allocation, shard }) => ({
    input,
    deps,
    pipelineInput,
    allocation,
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
  }),
};

function acceptsOffers(handler: string, input: JsonValue): boolean {
  const value = field(handler, input, 'acceptOffers') ?? true;
  if (typeof value !== 'boolean') {
    throw new InvalidStageInputError(
      handler,
      'acceptOffers',
      `must be true or false (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * `qm.sleep { ms, acceptOffers? }`: waits `ms` milliseconds (cancellable), returns `{ sleptMs }`. It uses none
 * of its allocation, so it accepts every smaller-allocation offer (graceful degradation) unless
 * `acceptOffers: false`; its end time does not change.
 */
const sleepHandler: StageHandlerDefinition = {
  name: 'qm.sleep',
  run: async ({ input, signal, onAllocationOffer }) => {
    const ms = nonNegative('qm.sleep', input, 'ms');
    if (acceptsOffers('qm.sleep', input)) onAllocationOffer(() => true);
    await sleep(ms, signal);
    return { sleptMs: ms };
  },
};

// Busy work for one thread: spin for `ms` or until its stop flag is raised, counting iterations.
const SPIN = `const { parentPort, workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData.stop);
let n = 0; const end = Date.now() + workerData.ms;
while (Date.now() < end && Atomics.load(stop, workerData.index) === 0) { for (let i = 0; i < 10000; i++) n += i & 1; }
parentPort.postMessage(n);`;

/**
 * `qm.cpu { ms, acceptOffers? }`: keeps `max(1, floor(allocation.cpu))` threads busy for `ms`. Accepts a
 * smaller-allocation offer (unless `acceptOffers: false`) by stopping threads down to `max(1, floor(to.cpu))`
 * before acknowledging it. Returns `{ threads, threadsAtEnd, ms, iterations }`.
 */
const cpu: StageHandlerDefinition = {
  name: 'qm.cpu',
  run: async ({ input, allocation, signal, onAllocationOffer }) => {
    const ms = nonNegative('qm.cpu', input, 'ms');
    const threads = Math.max(1, Math.floor(allocation.cpu ?? 1));
    const stopFlags = new Int32Array(new SharedArrayBuffer(4 * threads));
    let running = threads;
    const workers = Array.from(
      { length: threads },
      (_, index) => new Worker(SPIN, { eval: true, workerData: { ms, index, stop: stopFlags.buffer } }),
    );
    if (acceptsOffers('qm.cpu', input)) {
      onAllocationOffer(({ to }) => {
        // Stop the surplus threads first: the ledger hands their cores to others once we return true.
        const keep = Math.max(1, Math.floor(to.cpu ?? running));
        for (let i = keep; i < running; i++) Atomics.store(stopFlags, i, 1);
        running = Math.min(running, keep);
        return true;
      });
    }
    const stop = (): void => void workers.forEach((w) => void w.terminate());
    signal.addEventListener('abort', stop, { once: true });
    try {
      const counts = await Promise.all(
        workers.map(
          (w) =>
            new Promise<number>((resolve, reject) => {
              w.once('message', (n: number) => resolve(n));
              w.once('error', reject);
              w.once('exit', (code) =>
                code === 0 ? undefined : reject(new Error(`qm.cpu thread exited ${code}`)),
              );
            }),
        ),
      );
      return { threads, threadsAtEnd: running, ms, iterations: counts.reduce((a, b) => a + b, 0) };
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  },
};

function numbersOf(handler: string, input: JsonValue, name: string): number[] {
  const value = field(handler, input, name);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new InvalidStageInputError(
      handler,
      name,
      `must be an array of finite numbers (got ${JSON.stringify(value)})`,
    );
  }
  return value as number[];
}

/** `qm.sum { numbers }`: returns the sum of `numbers`. */
const sum: StageHandlerDefinition = {
  name: 'qm.sum',
  run: ({ input }) => numbersOf('qm.sum', input, 'numbers').reduce((a, b) => a + b, 0),
};

/** `qm.concat { arrays }`: concatenates `arrays` (an array of arrays), in order. */
const concat: StageHandlerDefinition = {
  name: 'qm.concat',
  run: ({ input }) => {
    const arrays = field('qm.concat', input, 'arrays');
    if (!Array.isArray(arrays) || !arrays.every(Array.isArray)) {
      throw new InvalidStageInputError(
        'qm.concat',
        'arrays',
        `must be an array of arrays (got ${JSON.stringify(arrays)})`,
      );
    }
    return (arrays as JsonValue[][]).flat();
  },
};

/** `qm.fail { failTimes }`: throws a retryable error on attempts 1…failTimes, then returns `{ attempts }`. */
const fail: StageHandlerDefinition = {
  name: 'qm.fail',
  run: ({ input, attempt }: StageContext) => {
    const failTimes = nonNegative('qm.fail', input, 'failTimes', 1);
    if (attempt <= failTimes)
      throw new DeliberateFailureError(`qm.fail: attempt ${attempt} of ${failTimes} planned failures`);
    return { attempts: attempt };
  },
};

/** The built-in handlers, so pipelines can be pure JSON (demo, tests, benchmarks). */
export const builtinHandlers: readonly StageHandlerDefinition[] = [
  echo,
  sleepHandler,
  cpu,
  sum,
  concat,
  fail,
];
