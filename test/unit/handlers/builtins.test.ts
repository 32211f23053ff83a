import { HandlerRegistry, defineStage } from '../../../src/handlers/registry';
import type { AllocationOfferListener, JsonValue, StageContext } from '../../../src/handlers/types';

const registry = new HandlerRegistry();

function ctx(input: JsonValue, extra: Partial<StageContext> = {}): StageContext {
  return {
    input,
    deps: {},
    pipelineInput: null,
    allocation: {},
    attempt: 1,
    signal: new AbortController().signal,
    workflowId: 'wf',
    stageId: 's',
    onAllocationOffer: () => () => undefined,
    ...extra,
  };
}

async function run(name: string, input: JsonValue, extra: Partial<StageContext> = {}): Promise<JsonValue> {
  return registry.get(name)(ctx(input, extra));
}

test.each([
  ['qm.sum', { numbers: [1, 2, 3.5] }, 6.5],
  ['qm.sum', { numbers: [] }, 0],
  ['qm.concat', { arrays: [[1], [], [2, 3]] }, [1, 2, 3]],
  ['qm.sleep', { ms: 5 }, { sleptMs: 5 }],
])('%s(%j) = %j', async (name, input, expected) => {
  expect(await run(name, input as JsonValue)).toEqual(expected);
});

test.each([
  ['qm.sum', { numbers: [1, 'x'] }, 'input.numbers'],
  ['qm.sum', null, 'input.numbers'],
  ['qm.concat', { arrays: [1] }, 'input.arrays'],
  ['qm.sleep', { ms: -1 }, 'input.ms'],
  ['qm.cpu', {}, 'input.ms'],
])('%s rejects %j as InvalidStageInputError naming %s', async (name, input, field) => {
  const err = (await Promise.resolve()
    .then(() => run(name, input as JsonValue))
    .catch((e: unknown) => e)) as Error;
  expect(err.name).toBe('InvalidStageInputError');
  expect(err.message).toContain(field);
});

test('qm.fail fails failTimes attempts, then succeeds', async () => {
  for (const attempt of [1, 2]) {
    const err = (await Promise.resolve()
      .then(() => run('qm.fail', { failTimes: 2 }, { attempt }))
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('DeliberateFailureError');
  }
  expect(await run('qm.fail', { failTimes: 2 }, { attempt: 3 })).toEqual({ attempts: 3 });
});

test('qm.cpu uses one thread per granted core and reports the work done', async () => {
  const out = (await run('qm.cpu', { ms: 50 }, { allocation: { cpu: 2.7 } })) as {
    threads: number;
    iterations: number;
  };
  expect(out.threads).toBe(2);
  expect(out.iterations).toBeGreaterThan(0);
});

test('qm.sleep stops when the stage is cancelled', async () => {
  const controller = new AbortController();
  const pending = run('qm.sleep', { ms: 10_000 }, { signal: controller.signal });
  controller.abort(new Error('cancelled'));
  await expect(pending).rejects.toThrow('cancelled');
});

test('qm.echo returns what the handler received', async () => {
  expect(
    await run('qm.echo', { a: 1 }, { deps: { x: 2 }, allocation: { cpu: 1 }, shard: { index: 1, count: 3 } }),
  ).toEqual({
    input: { a: 1 },
    deps: { x: 2 },
    pipelineInput: null,
    allocation: { cpu: 1 },
    shard: { index: 1, count: 3 },
  });
});

test('unknown handlers and duplicates are typed errors', () => {
  expect(() => registry.get('nope')).toThrow(expect.objectContaining({ name: 'UnknownHandlerError' }));
  const a = defineStage('my.a', () => 1);
  expect(() => new HandlerRegistry([a, a])).toThrow(
    expect.objectContaining({ name: 'DuplicateHandlerError' }),
  );
  expect(() => defineStage('qm.mine', () => 1)).toThrow('reserved');
  expect(() => defineStage(' ', () => 1)).toThrow('non-empty');
  expect(new HandlerRegistry([a]).names()).toContain('my.a');
});

describe('graceful degradation in the built-ins', () => {
  /** Runs `name` with a context that captures its offer listeners. */
  function withListeners(name: string, input: JsonValue, allocation: Record<string, number>) {
    const listeners: AllocationOfferListener[] = [];
    const out = run(name, input, {
      allocation,
      onAllocationOffer: (l) => {
        listeners.push(l);
        return () => undefined;
      },
    });
    return { listeners, out };
  }

  test('qm.cpu accepts an offer by stopping threads down to the offered cores first', async () => {
    // The offer comes while the threads run (it is answered before any of them can finish: on a loaded machine
    // a 50 ms pause before answering once outlasted a 400 ms run, and the result saw no offer).
    const { listeners, out } = withListeners('qm.cpu', { ms: 800 }, { cpu: 4 });
    expect(listeners).toHaveLength(1);
    expect(await listeners[0]?.({ from: { cpu: 4 }, to: { cpu: 1.5 } })).toBe(true);
    const result = (await out) as { threads: number; threadsAtEnd: number; iterations: number };
    expect(result).toMatchObject({ threads: 4, threadsAtEnd: 1 });
    expect(result.iterations).toBeGreaterThan(0);
  });

  test('qm.sleep accepts every offer unless acceptOffers is false', async () => {
    const yes = withListeners('qm.sleep', { ms: 5 }, { cpu: 2 });
    expect(await yes.listeners[0]?.({ from: { cpu: 2 }, to: { cpu: 1 } })).toBe(true);
    expect(await yes.out).toEqual({ sleptMs: 5 });
    const no = withListeners('qm.sleep', { ms: 5, acceptOffers: false }, { cpu: 2 });
    expect(no.listeners).toHaveLength(0);
    await no.out;
  });

  test('acceptOffers must be a boolean', async () => {
    const err = (await run('qm.sleep', { ms: 5, acceptOffers: 'yes' }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('InvalidStageInputError');
    expect(err.message).toContain('input.acceptOffers');
  });
});
