/**
 * Quartermaster's workflows. Workers that own their workflow bundle re-export this module from
 * their workflows index: `export * from 'quartermaster/workflows';`.
 */
export { pipelineWorkflow } from './pipeline-workflow';
export { statusQuery } from './messages';
