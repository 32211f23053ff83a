/**
 * A deterministic synthetic workload generator for benchmarks and tests: a cluster of identical nodes and
 * a stream of pipelines of three kinds (an ETL chain with a shardable middle stage and a database pool,
 * a wide training stage that accepts less, and small reports) with mixed priorities, arriving at a rate
 * that offers `overload ×` the cluster's CPU over the arrival window. Seeded (mulberry32): the same options
 * give the same workload.
 */
import { seededRandom } from './seeded-random';

/** Options of {@link generateWorkload}; all optional. */
export interface GenerateOptions {
  /** PRNG seed (integer). @default 1 */
  seed?: number;
  /** Offered CPU work ÷ (cluster cores × `windowSeconds`). @default 1.5 */
  overload?: number;
  /** Arrivals are spread over this many seconds. @default 1200 */
  windowSeconds?: number;
  /** Number of nodes. @default 4 */
  nodes?: number;
  /** Cores per node. @default 16 */
  coresPerNode?: number;
  /** Add background CPU load (a node-specific step pattern up to 40 % of a node) on every other node. @default false */
  background?: boolean;
}

/**
 * Builds a workload (plain JSON, ready for `parseWorkload` or to be written to a file). Priorities: 20 %
 * high (8–10), 40 % mid (4–7), 40 % low (1–3). CPU·seconds per kind at desired: etl 1,260, train 4,800,
 * report 20; mix 40 / 15 / 45 %.
 * @returns the workload object. Never throws for finite, positive options.
 */
export function generateWorkload(options: GenerateOptions = {}): Record<string, unknown> {
  const rand = seededRandom(options.seed ?? 1);
  const overload = options.overload ?? 1.5;
  const window = options.windowSeconds ?? 1200;
  const nodeCount = options.nodes ?? 4;
  const cores = options.coresPerNode ?? 16;
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const priority = (): number => {
    const u = rand();
    return u < 0.2 ? int(8, 10) : u < 0.6 ? int(4, 7) : int(1, 3);
  };
  const meanWork = 0.4 * 1260 + 0.15 * 4800 + 0.45 * 20;
  const count = Math.max(1, Math.round((overload * nodeCount * cores * window) / meanWork));
  const submissions: Array<Record<string, unknown>> = [];
  for (let i = 0; i < count; i++) {
    const at = Math.round(rand() * window * 10) / 10;
    const p = priority();
    const u = rand();
    const name = `${u < 0.4 ? 'etl' : u < 0.55 ? 'train' : 'report'}-${i}`;
    if (u < 0.4) {
      submissions.push({
        at,
        definition: {
          name,
          stages: [
            {
              id: 'extract',
              handler: 'qm.sleep',
              priority: p,
              resources: { desired: { cpu: 4, memoryMb: 4096 }, minimum: { cpu: 2, memoryMb: 4096 } },
            },
            {
              id: 'transform',
              handler: 'qm.sleep',
              priority: p,
              dependsOn: ['extract'],
              input: { rows: Array.from({ length: 8 }, (_, k) => k) },
              resources: { desired: { cpu: 8, memoryMb: 8192 } },
              shard: { by: 'items', field: 'rows', maxShards: 4, reassemble: 'qm.concat' },
            },
            {
              id: 'load',
              handler: 'qm.sleep',
              priority: p,
              dependsOn: ['transform'],
              resources: { desired: { cpu: 2, memoryMb: 2048, 'db-connections': 2 } },
            },
          ],
        },
        durations: { extract: 60, transform: 120, load: 30 },
      });
    } else if (u < 0.55) {
      submissions.push({
        at,
        definition: {
          name,
          stages: [
            {
              id: 'train',
              handler: 'qm.sleep',
              priority: p,
              resources: { desired: { cpu: 16, memoryMb: 32768 }, minimum: { cpu: 8, memoryMb: 32768 } },
            },
          ],
        },
        durations: { train: 300 },
      });
    } else {
      submissions.push({
        at,
        definition: {
          name,
          stages: [
            {
              id: 'report',
              handler: 'qm.sleep',
              priority: p,
              resources: { desired: { cpu: 1, memoryMb: 512 } },
            },
          ],
        },
        durations: { report: 20 },
      });
    }
  }
  submissions.sort((a, b) => (a.at as number) - (b.at as number));
  const nodes = Array.from({ length: nodeCount }, (_, k) => ({
    id: `n${k + 1}`,
    capacity: { cpu: cores, memoryMb: cores * 4096 },
  }));
  const background: Record<string, Record<string, Array<[number, number]>>> = {};
  if (options.background === true) {
    nodes.forEach((n, k) => {
      if (k % 2 === 1) return;
      const points: Array<[number, number]> = [];
      for (let t = 0; t < window * 3; t += int(60, 240))
        points.push([t, Math.round(rand() * 0.4 * cores * 10) / 10]);
      background[n.id] = { cpu: points };
    });
  }
  return {
    $schema: '../../../schema/workload.schema.json',
    cluster: { nodes, pools: { 'db-connections': 8 } },
    submissions,
    ...(options.background === true ? { background } : {}),
  };
}
