/**
 * How long a stage is expected to run on an allocation: its `expectedSeconds` (declared at its desired
 * allocation) stretched in proportion to its CPU share, the rule the simulator runs stages by. Pure.
 */
import type { ResourceVector } from './types';

/** Slowest rate a reduced CPU allocation is assumed to run at (keeps a tiny grant's projection finite). */
export const MIN_CPU_RATE = 0.01;

/**
 * How fast a stage runs on `allocation` relative to `desired`: `allocation.cpu / desired.cpu` in
 * [{@link MIN_CPU_RATE}, 1]; 1 when it asks for no CPU.
 */
export function cpuRate(allocation: Readonly<ResourceVector>, desired: Readonly<ResourceVector>): number {
  const want = desired.cpu ?? 0;
  if (want <= 0) return 1;
  return Math.max(MIN_CPU_RATE, Math.min(1, (allocation.cpu ?? 0) / want));
}

/** `expectedSeconds` at `desired`, stretched to `allocation` (see {@link cpuRate}). */
export function expectedRunSeconds(
  expectedSeconds: number,
  allocation: Readonly<ResourceVector>,
  desired: Readonly<ResourceVector>,
): number {
  return expectedSeconds / cpuRate(allocation, desired);
}
