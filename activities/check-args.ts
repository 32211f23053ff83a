import { checkPipelineArgs } from '../src/pipeline/workflow-args';
import { checkShardArgs } from '../src/sharding/shard-args';
import type { ArgsRejection, CheckedPipelineArgs } from '../src/pipeline/args-failure';

/**
 * The argument checks workflows run as local activities (see `workflows/args-check.ts`): pure, never throw.
 */
export const checkArgsActivities = {
  /** `pipelineWorkflow`'s argument: the normalised definition and importance, or the rejection. */
  async checkPipelineArgs(raw: unknown): Promise<CheckedPipelineArgs> {
    return checkPipelineArgs(raw);
  },
  /** `shardWorkflow`'s argument: its rejection, or null. */
  async checkShardArgs(raw: unknown): Promise<ArgsRejection | null> {
    return checkShardArgs(raw);
  },
};
