/** Small workload builders for the simulator's table-driven tests. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadWorkloadFile, parseWorkload, type Workload } from '../../../src/simulator';

/** Loads `test/fixtures/workloads/NAME.json`, or the benchmark's `bench/workloads/NAME.json`. */
export function fixture(name: string): Workload {
  const small = path.join(__dirname, '..', '..', 'fixtures', 'workloads', `${name}.json`);
  const bench = path.join(__dirname, '..', '..', '..', 'bench', 'workloads', `${name}.json`);
  return loadWorkloadFile(existsSync(small) ? small : bench);
}

/** A one-stage pipeline definition. */
export function oneStage(
  name: string,
  priority: number,
  desired: Record<string, number>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    stages: [{ id: 's', handler: 'qm.sleep', priority, resources: { desired }, ...extra }],
  };
}

/** A submission of a one-stage pipeline running `seconds`. */
export function job(
  at: number,
  name: string,
  priority: number,
  desired: Record<string, number>,
  seconds: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { at, definition: oneStage(name, priority, desired, extra), durations: { s: seconds } };
}

/** A validated workload on one node of `capacity` with `submissions`. */
export function workload(
  capacity: Record<string, number>,
  submissions: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Workload {
  return parseWorkload({ cluster: { nodes: [{ id: 'n1', capacity }] }, submissions, ...extra });
}
