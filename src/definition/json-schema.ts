/**
 * The JSON Schema of a pipeline definition, for editors (completion and inline errors in JSON and
 * YAML files) and for other languages' clients. Generated from the zod schema, so it cannot drift;
 * the committed copy is `schema/pipeline.schema.json` (regenerate with `npm run schema`; a unit test
 * fails when it is stale). It covers the field rules; the cross-field and graph rules (minimum ≤
 * desired, shard modes, unique ids, known dependencies, no cycles) are enforced only by
 * `validateDefinition`.
 */
import { z } from 'zod';
import { pipelineDefinitionSchema } from './schema';

/** The `$id` of the pipeline JSON Schema. */
export const PIPELINE_SCHEMA_ID = 'urn:quartermaster:schema:pipeline:v1';

/**
 * Returns the JSON Schema (draft 2020-12) of a pipeline definition as written by users (inputs:
 * optional fields with defaults are not required), with `$schema`, `$id`, `title` and field
 * descriptions. A fresh object on every call. Never throws.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(pipelineDefinitionSchema, PIPELINE_SCHEMA_ID);
}

/**
 * The JSON Schema (draft 2020-12) of a zod schema's *input* (optional fields with defaults are not
 * required), with `$schema` first and the given `$id`: the form editors want. Shared by every schema
 * Quartermaster publishes. Never throws.
 */
export function editorJsonSchema(schema: z.ZodType, id: string): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema: typeof $schema === 'string' ? $schema : 'https://json-schema.org/draft/2020-12/schema',
    $id: id,
    ...rest,
  };
}
