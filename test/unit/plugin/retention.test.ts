import type { Client } from '@temporalio/client';
import { startPipeline } from '../../../src/client';
import { DEFINITION_VERSION_MEMO, definitionVersionFromMemo } from '../../../src/pipeline/definition-version';
import { QuartermasterPlugin } from '../../../src/plugin';

const saved = process.env.QM_EXECUTION_RETENTION_DAYS;
const savedHorizon = process.env.QM_SUCCESSOR_HORIZON_MS;
afterEach(() => {
  if (saved === undefined) delete process.env.QM_EXECUTION_RETENTION_DAYS;
  else process.env.QM_EXECUTION_RETENTION_DAYS = saved;
  if (savedHorizon === undefined) delete process.env.QM_SUCCESSOR_HORIZON_MS;
  else process.env.QM_SUCCESSOR_HORIZON_MS = savedHorizon;
});

test.each<[string, number | undefined, string | undefined, string]>([
  ['zero days', 0, undefined, 'executionRetentionDays'],
  ['negative', -1, undefined, 'executionRetentionDays'],
  ['not finite', Number.POSITIVE_INFINITY, undefined, 'executionRetentionDays'],
  ['a bad environment variable', undefined, 'a month', 'QM_EXECUTION_RETENTION_DAYS'],
])('executionRetentionDays: %s is a typed error at construction', (_what, option, env, path) => {
  if (env === undefined) delete process.env.QM_EXECUTION_RETENTION_DAYS;
  else process.env.QM_EXECUTION_RETENTION_DAYS = env;
  expect(
    () => new QuartermasterPlugin(option === undefined ? {} : { executionRetentionDays: option }),
  ).toThrow(expect.objectContaining({ name: 'InvalidLedgerArgumentError', path }));
});

test('executionRetentionDays: valid values (option, environment, default) construct', () => {
  delete process.env.QM_EXECUTION_RETENTION_DAYS;
  expect(() => new QuartermasterPlugin({ executionRetentionDays: 7 })).not.toThrow();
  expect(() => new QuartermasterPlugin()).not.toThrow();
  process.env.QM_EXECUTION_RETENTION_DAYS = '0.5';
  expect(() => new QuartermasterPlugin()).not.toThrow();
});

test.each<[string, number | undefined, string | undefined, string]>([
  ['negative', -5, undefined, 'successorHorizonMs'],
  ['not finite', Number.POSITIVE_INFINITY, undefined, 'successorHorizonMs'],
  ['too large for a timer', 1e308, undefined, 'successorHorizonMs'],
  ['NaN', Number.NaN, undefined, 'successorHorizonMs'],
  ['a bad environment variable', undefined, 'high', 'QM_SUCCESSOR_HORIZON_MS'],
])('successorHorizonMs: %s is a typed error at construction', (_what, option, env, path) => {
  if (env === undefined) delete process.env.QM_SUCCESSOR_HORIZON_MS;
  else process.env.QM_SUCCESSOR_HORIZON_MS = env;
  expect(() => new QuartermasterPlugin(option === undefined ? {} : { successorHorizonMs: option })).toThrow(
    expect.objectContaining({ name: 'InvalidLedgerArgumentError', path }),
  );
});

test('successorHorizonMs: 0 (off), a number, the environment and the default construct', () => {
  delete process.env.QM_SUCCESSOR_HORIZON_MS;
  expect(() => new QuartermasterPlugin({ successorHorizonMs: 0 })).not.toThrow();
  expect(() => new QuartermasterPlugin({ successorHorizonMs: 2500 })).not.toThrow();
  expect(() => new QuartermasterPlugin()).not.toThrow();
  process.env.QM_SUCCESSOR_HORIZON_MS = '0';
  expect(() => new QuartermasterPlugin()).not.toThrow();
});

const definition = { name: 'p', stages: [{ id: 's', handler: 'qm.echo', priority: 5 }] };

test('startPipeline puts the registered version in the memo; a bad one is refused before starting', async () => {
  const started: unknown[] = [];
  const client = {
    workflow: {
      start: (_type: string, options: unknown) => {
        started.push(options);
        return Promise.resolve({ workflowId: 'w', firstExecutionRunId: 'r' });
      },
    },
  } as unknown as Client;
  await startPipeline(client, definition, { definitionVersion: 3, workflowId: 'w' });
  expect(started[0]).toMatchObject({ memo: { [DEFINITION_VERSION_MEMO]: 3 } });
  await startPipeline(client, definition, { workflowId: 'w2' });
  expect((started[1] as { memo?: unknown }).memo).toBeUndefined();
  for (const bad of [0, 1.5, Number.NaN])
    await expect(startPipeline(client, definition, { definitionVersion: bad })).rejects.toMatchObject({
      name: 'InvalidDefinitionError',
    });
  expect(started).toHaveLength(2);
});

test.each<[Record<string, unknown> | undefined, number | undefined]>([
  [{ [DEFINITION_VERSION_MEMO]: 4 }, 4],
  [{ [DEFINITION_VERSION_MEMO]: '4' }, undefined],
  [{ [DEFINITION_VERSION_MEMO]: 0 }, undefined],
  [{}, undefined],
  [undefined, undefined],
])('definitionVersionFromMemo(%j) = %p', (memo, version) => {
  expect(definitionVersionFromMemo(memo)).toBe(version);
});
