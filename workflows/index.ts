/**
 * Quartermaster's workflows. Workers that own their workflow bundle re-export this module from
 * their workflows index: `export * from 'quartermaster/workflows';`.
 */
export { pipelineWorkflow } from './pipeline-workflow';
export { shardWorkflow, type ShardWorkflowInput, type ShardWorkflowResult } from './shard-workflow';
export { schedulerWorkflow, type SchedulerWorkflowInput } from './scheduler-workflow';
export {
  statusQuery,
  admissionProgressSignal,
  wakeSignal,
  queueQuery,
  shardProgressSignal,
  type ShardProgress,
  type SchedulerQueue,
} from './messages';
