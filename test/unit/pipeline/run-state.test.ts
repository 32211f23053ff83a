import type { PipelineDefinition } from '../../../src/definition/types';
import { PipelineRun } from '../../../src/pipeline/run-state';

const def: PipelineDefinition = {
  name: 'p',
  stages: [
    { id: 'a', handler: 'h', priority: 2 },
    { id: 'b', handler: 'h', priority: 9, dependsOn: ['a'] },
    { id: 'c', handler: 'h', priority: 4, dependsOn: ['a'] },
    { id: 'd', handler: 'h', priority: 1, dependsOn: ['b', 'c'] },
  ],
};
const t0 = new Date('2026-01-01T00:00:00Z');
const ids = (run: PipelineRun): string[] => run.ready().map((s) => s.id);

test('stages become ready as their dependencies complete', () => {
  const run = new PipelineRun(def, 0);
  expect(ids(run)).toEqual(['a']);
  run.started('a', t0);
  expect(ids(run)).toEqual([]);
  run.completed('a', t0, 1, 1);
  expect(ids(run)).toEqual(['b', 'c']);
  run.started('b', t0);
  run.completed('b', t0, 2, 1);
  expect(ids(run)).toEqual(['c']);
  run.started('c', t0);
  run.completed('c', t0, 3, 1);
  expect(run.depsOutputs(def.stages[3]!)).toEqual({ b: 2, c: 3 });
  run.started('d', t0);
  expect(run.overall()).toBe('running');
  run.completed('d', t0, 4, 1);
  expect(run.overall()).toBe('completed');
  expect(run.result().status).toBe('completed');
  expect(run.highestPriority()).toBe(9);
});

test('a failure stops new stages, waits for running ones, and skips the rest', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  run.completed('a', t0, 1, 1);
  run.started('b', t0);
  run.started('c', t0);
  run.failedStage('b', t0, 'boom', 3);
  expect(ids(run)).toEqual([]);
  expect(run.overall()).toBe('running');
  expect(() => run.result()).toThrow('still running');
  run.completed('c', t0, 3, 1);
  run.skipRemaining();
  expect(run.overall()).toBe('failed');
  expect(run.failedStages()).toEqual(['b']);
  expect(run.result().stages.d?.status).toBe('skipped');
  expect(run.markdown()).toMatch(/^b +9 +failed +3$/m);
  expect(run.markdown()).toContain('- **b** failed: boom');
});

test('status and result are copies, not live state', () => {
  const run = new PipelineRun(def, 3);
  const before = run.status();
  run.started('a', t0);
  expect(before.stages.a?.status).toBe('pending');
  expect(run.status()).toMatchObject({ name: 'p', importance: 3, state: 'running' });
});

test('a running stage that accepted a smaller allocation shows it; other stages ignore the change', () => {
  const run = new PipelineRun(def, 0);
  run.reallocated('a', { cpu: 1 }); // not running yet
  expect(run.status().stages.a?.allocation).toBeUndefined();
  run.started('a', t0, { cpu: 4 }, 'n1');
  run.reallocated('a', { cpu: 1 });
  expect(run.status().stages.a).toMatchObject({ status: 'running', allocation: { cpu: 1 }, node: 'n1' });
  run.completed('a', t0, 1, 1);
  run.reallocated('a', { cpu: 0.5 }); // late: the stage is done
  expect(run.status().stages.a?.allocation).toEqual({ cpu: 1 });
});

test('attempts counts the attempt in progress', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  expect(run.state('a').attempts).toBe(1);
  run.started('a', t0, { cpu: 1 }, 'n1', 2);
  expect(run.state('a').attempts).toBe(2);
  run.completed('a', t0, 1, 2);
  expect(run.state('a').attempts).toBe(2);
});

test('a cancelled pipeline: unfinished stages and the pipeline are cancelled, finished ones kept', () => {
  const run = new PipelineRun(def, 0);
  run.started('a', t0);
  run.completed('a', t0, 1, 1);
  run.started('b', t0);
  run.waiting('c', 'cpu: 0 free');
  run.cancelled(t0);
  expect(run.overall()).toBe('cancelled');
  expect(run.ready()).toEqual([]);
  const { stages } = run.result();
  expect(run.result().status).toBe('cancelled');
  expect(stages.a?.status).toBe('completed');
  expect(stages.b).toMatchObject({ status: 'cancelled', error: 'the pipeline was cancelled' });
  expect(stages.c?.status).toBe('cancelled');
  expect(stages.c?.waitReason).toBeUndefined();
  expect(stages.d?.status).toBe('cancelled');
});

describe('current details (Web UI)', () => {
  it('is an aligned table in a fenced block, then the wait reason, estimated start and error per stage', () => {
    const run = new PipelineRun(def, 2);
    run.started('a', t0, { cpu: 2, memoryMb: 512 }, 'node-1');
    run.completed('a', t0, 1, 1);
    run.waiting('b', 'cpu: needs 8, 2 free on node-1', '2026-01-01T00:05:00.000Z');
    run.started('c', t0);
    run.failedStage('c', t0, 'Error: boom\nat line 2', 3);
    const md = run.markdown(t0, 5);
    expect(md.split('\n')[0]).toBe('**p** — running · 1/4 stages done · importance 5');
    expect(md).toContain('```text\nSTAGE  PRIO  STATUS     ATTEMPTS  NODE    ALLOCATION');
    expect(md).toMatch(/^a +2 +completed +1 +node-1 +cpu=2 memoryMb=512$/m);
    expect(md).toMatch(/^b +9 +waiting +0$/m);
    expect(md).toContain('- **b** waits: cpu: needs 8, 2 free on node-1 · est. start 00:05:00Z');
    expect(md).toContain('- **c** failed: Error: boom at line 2');
    // Every row lines up under the headers.
    const lines = md.split('\n').filter((l) => /^(STAGE|[abcd]) /.test(l));
    const col = (l: string) => l.indexOf(l.split(/ +/)[2] ?? '');
    expect(new Set(lines.map(col)).size).toBe(1);
  });

  it('cuts long cells and never closes the fence early', () => {
    const run = new PipelineRun({ name: 'x', stages: [{ id: 'a', handler: 'h', priority: 1 }] }, 0);
    run.started('a', t0);
    run.failedStage('a', t0, '```' + 'e'.repeat(10_000), 1);
    const md = run.markdown(t0);
    expect(md.split('```').length).toBe(3); // the error's backticks are escaped, never a fence
    expect(md.length).toBeLessThan(1_000);
  });
});
