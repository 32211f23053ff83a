/**
 * The pipeline definition language: types, validation (with structured issues), parsing of JSON and
 * YAML files, a typed builder, the dependency graph and the JSON Schema for editors.
 *
 * Workflow code should import `./validate`, `./graph` and `./types` directly rather than this index,
 * which also pulls in the YAML parser and the JSON Schema generator (bundleable, but dead weight there).
 *
 * @example
 * import { parseDefinitionText, validateDefinition, formatIssue, pipeline } from 'quartermaster';
 *
 * const result = validateDefinition(parseDefinitionText(fileText));
 * if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
 * result.definition.stages[0].dependsOn; // defaults filled in: string[]
 *
 * const etl = pipeline('nightly-etl')
 *   .stage({ id: 'extract', handler: 'qm.sleep', priority: 7, input: { ms: 200 } })
 *   .stage({ id: 'total', handler: 'qm.sum', priority: 9, dependsOn: ['extract'] })
 *   .build(); // throws InvalidDefinitionError
 */
export type {
  NormalisedPipelineDefinition,
  NormalisedShardSpec,
  NormalisedStageDefinition,
  NormalisedStageResources,
  PipelineDefinition,
  ResourceVector,
  RetrySpec,
  ShardSpec,
  StageDefinition,
  StageResources,
} from './types';
export type { DefinitionIssue, DefinitionIssueCode } from './issues';
export { formatIssue, formatPath } from './issues';
export { type DefinitionValidation, assertValidDefinition, validateDefinition } from './validate';
export { DefinitionParseError, InvalidDefinitionError } from './errors';
export { parseDefinitionText } from './parse';
export { type GraphStage, checkGraph, findCycle, topologicalOrder } from './graph';
export { type PipelineBuilder, type PipelineOptions, type StageSpec, pipeline } from './builder';
export { PIPELINE_SCHEMA_ID, pipelineJsonSchema } from './json-schema';
export {
  MAX_NAME_LENGTH,
  MAX_STAGES,
  MAX_TIMEOUT_SECONDS,
  RESOURCE_NAME_PATTERN,
  STAGE_ID_PATTERN,
  pipelineDefinitionSchema,
} from './schema';
