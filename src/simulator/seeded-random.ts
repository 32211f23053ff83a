/**
 * mulberry32: a small, fast seeded PRNG returning numbers in [0, 1). The simulator's generated workloads and
 * the tests' fuzzing use it so a run (or a failing case) reproduces from its seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
