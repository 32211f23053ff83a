import { defineQuery } from '@temporalio/workflow';
import type { PipelineStatus } from '../src/pipeline/types';

/** `status` query on `pipelineWorkflow`: the pipeline's state and every stage's. */
export const statusQuery = defineQuery<PipelineStatus>('status');
