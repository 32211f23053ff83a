import { pipelineResult, startPipeline } from '../src/client';
import { defineStage } from '../src/handlers/registry';
import { startBenchCluster } from './cluster';
import { markdownTable, writeBenchSection } from './report';

/** Work per item, in cpu·ms: an item takes this long on one core, half as long on two. */
const WORK_PER_ITEM_CPU_MS = 1500;
const NODE_CPU = 4;

/**
 * `npm run bench -- sharding`: a stage that cannot fit (it wants twice the node's cores) is sharded and run
 * on a real dev server and PostgreSQL. Its makespan is compared with the ideal split (total work ÷ capacity);
 * the delay before the first shard starts is compared with the scheduler's tick (5 s).
 */
export async function run(args: string[]): Promise<void> {
  const itemCounts = (args[0] ?? '16,32').split(',').map(Number);
  const starts: number[] = [];
  // Work scales with items and divides by the granted cores — what a real data-parallel stage does.
  const work = defineStage('bench.work', async ({ input, allocation }) => {
    starts.push(Date.now());
    const items = (input as { items: number[] }).items;
    const ms = (items.length * WORK_PER_ITEM_CPU_MS) / Math.max(allocation.cpu ?? 1, 1e-9);
    await new Promise((r) => setTimeout(r, ms));
    return items.length;
  });
  const cluster = await startBenchCluster({
    name: 'sharding',
    nodes: [{ id: 'bench', capacity: { cpu: NODE_CPU }, monitor: false }],
    handlers: [work],
  });
  const rows: Array<Array<string | number>> = [];
  try {
    for (const n of itemCounts) {
      starts.length = 0;
      const definition = {
        name: `shard-bench-${n}`,
        stages: [
          {
            id: 'crunch',
            handler: 'bench.work',
            priority: 7,
            input: { items: Array.from({ length: n }, (_, i) => i) },
            resources: { desired: { cpu: NODE_CPU * 2 } },
            shard: { by: 'items', field: 'items', maxShards: 16, reassemble: 'qm.sum' },
          },
        ],
      };
      const t0 = Date.now();
      const handle = await startPipeline(cluster.client, definition, {
        taskQueue: cluster.taskQueue,
        workflowId: `shard-bench-${n}-${t0}`,
      });
      const result = await pipelineResult(handle);
      const makespan = Date.now() - t0;
      const ideal = (n * WORK_PER_ITEM_CPU_MS) / NODE_CPU;
      const firstStart = Math.min(...starts) - t0;
      if (result.stages.crunch?.output !== n)
        throw new Error(`wrong reduction: ${JSON.stringify(result.stages.crunch)}`);
      rows.push([
        n,
        `${NODE_CPU * 2} on ${NODE_CPU}`,
        result.stages.crunch?.shards?.length ?? 0,
        (ideal / 1000).toFixed(2),
        (makespan / 1000).toFixed(2),
        `**${(makespan / ideal).toFixed(2)}×**`,
        `${firstStart} ms`,
      ]);
    }
  } finally {
    await cluster.close();
  }
  const body = [
    `A stage wanting ${NODE_CPU * 2} cores on a ${NODE_CPU}-core node (work ${WORK_PER_ITEM_CPU_MS} cpu·ms per item, divided by`,
    'the granted cores), sharded automatically, `qm.sum` reducer; real dev server + PostgreSQL, one run each.',
    'Makespan is from the pipeline start to its result (reduction included). Target: ≤ 1.2× the ideal split, and',
    'the first shard started within one scheduler tick (5 s).',
    '',
    markdownTable(
      ['items', 'cpu wanted on node', 'shards', 'ideal s', 'makespan s', 'ratio', 'first shard after'],
      rows,
    ),
  ].join('\n');
  writeBenchSection('sharding', 'Sharding makespan (sharding issue)', body);
  process.stderr.write(`${body}\n`);
}
