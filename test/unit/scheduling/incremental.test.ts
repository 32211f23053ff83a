/**
 * The incremental core against the reference: thousands of random event sequences (seeded, see
 * `incremental-world.ts`) run through `runCycle` on the full snapshot and through `IncrementalCycle` fed only
 * the deltas; every cycle's decisions, queue rows and holds must be identical (full output), and the
 * changes-only output must be the full output's grants, shards and holds, with the same wait reasons and
 * waiting order.
 */
import {
  compileSchedulerConfig,
  runCycle,
  type CycleResult,
  type SchedulerOptions,
} from '../../../src/scheduling';
import { IncrementalCycle } from '../../../src/scheduling/incremental-cycle';
import type { CycleChanges } from '../../../src/scheduling/incremental-types';
import { World } from './incremental-world';

const CONFIGS: Array<[string, SchedulerOptions]> = [
  ['defaults', {}],
  ['no holds', { maxHolds: 0 }],
  ['two holds, switch margin 0', { maxHolds: 2, holdSwitchMargin: 0 }],
  ['saturation 600 s', { ageSaturationSeconds: 600 }],
  [
    'fifo (strict order)',
    { weights: { priority: 0, importance: 0, fit: 0, size: 0, age: 1 }, maxHolds: 0, strictOrder: true },
  ],
  ['easy', { weights: { priority: 0, importance: 0, fit: 0, size: 0, age: 1 }, maxHolds: 1 }],
  [
    'strict priority',
    {
      weights: { priority: 1, importance: 0, fit: 0, size: 0, age: 0.001 },
      maxHolds: 0,
      enforceStarvationBound: false,
    },
  ],
  ['no starvation bound', { enforceStarvationBound: false, maxHolds: 1 }],
  ['three sticky holds', { maxHolds: 3, holdSwitchMargin: Infinity, ageSaturationSeconds: 900 }],
  ['strict order with holds', { strictOrder: true, maxHolds: 2 }],
];

const SEQUENCES = 2_000;
const STEPS = 14;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What the changes-only output must say, derived from the full result. */
function checkChanges(full: CycleResult, changes: CycleChanges): string | null {
  const expected = full.decisions.filter((d) => d.kind !== 'wait' || d.hold !== undefined);
  if (!same(changes.decisions, expected)) return 'decisions';
  if (!same(changes.holds, full.holds)) return 'holds';
  const waiting = full.queue.filter((q) => q.decision === 'wait').map((q) => q.key);
  for (const limit of [1, 3, waiting.length + 1]) {
    if (!same(changes.waitingKeys(limit), waiting.slice(0, limit))) return `waitingKeys(${limit})`;
  }
  for (const d of full.decisions) {
    const reason = changes.waitReason(d.key);
    if (d.kind === 'wait' ? !same(reason, d.reason) : reason !== undefined) return `waitReason(${d.key})`;
  }
  return null;
}

describe('IncrementalCycle gives runCycle’s decisions on random event sequences', () => {
  it.each(CONFIGS)('%s', (_name, options) => {
    const config = compileSchedulerConfig(options);
    let cycles = 0;
    let decided = 0;
    for (let seq = 0; seq < SEQUENCES / CONFIGS.length; seq++) {
      const seed = seq * 7919 + CONFIGS.findIndex(([n]) => n === _name);
      const world = new World(seed, seq % 2 === 1);
      const core = new IncrementalCycle(config);
      for (let i = 0; i < 3; i++) world.arrive();
      for (let step = 0; step < STEPS; step++) {
        if (step > 0) world.churn();
        const delta = world.takeDelta();
        const snapshot = world.snapshot();
        if (step % 5 === 4) core.sync(snapshot);
        else core.apply(delta);
        const now = new Date(world.nowMs);
        const full = runCycle(snapshot, now, config);
        const inc = core.run(now);
        if (!same(inc, full)) {
          // The diff, with the seed to reproduce it.
          expect({ seed, step, result: inc }).toEqual({ seed, step, result: full });
        }
        const problem = checkChanges(full, core.runChanges(now));
        if (problem !== null)
          throw new Error(`seed ${seed} step ${step}: changes output differs in ${problem}`);
        cycles++;
        decided += full.decisions.filter((d) => d.kind !== 'wait').length;
        world.commit(full);
      }
    }
    // The sequences exercise something: cycles ran and requests were granted or sharded.
    expect(cycles).toBe((SEQUENCES / CONFIGS.length) * STEPS);
    expect(decided).toBeGreaterThan(cycles / 4);
  });
});
