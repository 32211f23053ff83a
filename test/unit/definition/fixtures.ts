/** Small fixture builders shared by the definition tests. */
import { type PipelineDefinition, type StageDefinition } from '../../../src/definition/types';

/** A valid stage with the given id and overrides. */
export function stage(id: string, extra: Record<string, unknown> = {}): StageDefinition {
  return { id, handler: 'qm.sleep', priority: 5, ...extra } as StageDefinition;
}

/** A pipeline named `p` with the given stages. */
export function def(...stages: unknown[]): PipelineDefinition {
  return { name: 'p', stages } as PipelineDefinition;
}

/** The example from the brief: must validate. */
export function example(): PipelineDefinition {
  return {
    name: 'nightly-etl',
    importance: 0,
    stages: [
      {
        id: 'extract',
        handler: 'qm.sleep',
        priority: 7,
        input: { ms: 200 },
        resources: { desired: { cpu: 2, memoryMb: 1024 }, minimum: { cpu: 1, memoryMb: 512 } },
      },
      {
        id: 'total',
        handler: 'qm.sum',
        priority: 9,
        dependsOn: ['extract'],
        input: { numbers: [1, 2, 3] },
        shard: { by: 'items', field: 'numbers', maxShards: 8, reassemble: 'qm.sum' },
        retry: { maximumAttempts: 3 },
        timeoutSeconds: 60,
      },
    ],
  };
}
