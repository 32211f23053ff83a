/**
 * Quartermaster: run Temporal pipelines by priority and predicted resource availability.
 *
 * @example
 * import { Worker } from '@temporalio/worker';
 * import { QuartermasterPlugin, defineStage } from 'quartermaster';
 *
 * const resize = defineStage('images.resize', async ({ input, allocation }) => ({ ok: true }));
 * const worker = await Worker.create({ taskQueue: 'quartermaster', plugins: [new QuartermasterPlugin({ handlers: [resize] })] });
 * await worker.run();
 *
 * // Start one from a client:
 * const handle = await startPipeline(client, definition, { input: { date: '2026-11-30' } });
 * const result = await pipelineResult(handle);
 */
export { QuartermasterPlugin, type QuartermasterPluginOptions } from './plugin';
export { defineStage, HandlerRegistry } from './handlers/registry';
export type {
  AllocationOffer,
  AllocationOfferListener,
  StageContext,
  StageHandler,
  StageHandlerDefinition,
  JsonValue,
  ShardContext,
} from './handlers/types';
export { startPipeline, pipelineStatus, pipelineResult, type StartPipelineOptions } from './client';
export { createQuartermasterWorker, type QuartermasterWorkerOptions } from './worker/create-worker';
export { DEFAULT_TASK_QUEUE, temporalSettings } from './config';
export { ADMISSION_WORKER_SLOTS, admissionTaskQueue } from './admission/constants';
export * from './definition';
export type {
  PipelineInput,
  PipelineResult,
  PipelineStatus,
  StageState,
  StageStatus,
  PipelineState,
} from './pipeline/types';
export {
  qmPipelineKey,
  qmPriorityKey,
  qmStateKey,
  qmImportanceKey,
  qmStageKey,
  qmShardKey,
} from './search-attributes';
export {
  type BoostCapability,
  type BoostCapabilityFields,
  MAX_CAPABILITY_LIFETIME_MS,
} from './boosts/capability';
export { signBoostCapability, verifyBoostCapability } from './boosts/capability-mac';
export { type BoostRequest, BOOST_LIMITS } from './boosts/boost-request';
export {
  type PipelineArgsValidation,
  type ValidPipelineArgs,
  validatePipelineArgs,
} from './pipeline/workflow-args';
