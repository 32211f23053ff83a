/**
 * The JSON Schema of a simulator workload, generated from the zod schema so it cannot drift; the
 * committed copy is `schema/workload.schema.json` (a unit test fails when it is stale). It covers the
 * field rules; cross references (a duration per stage, known nodes, pools) are checked by `parseWorkload`.
 */
import { editorJsonSchema } from '../definition/json-schema';
import { workloadSchemaForDocs } from './workload-schema';

/** The `$id` of the workload JSON Schema. */
export const WORKLOAD_SCHEMA_ID = 'urn:quartermaster:schema:workload:v1';

/**
 * Returns the JSON Schema (draft 2020-12) of a workload file, with `$schema`, `$id`, `title` and field
 * descriptions. A fresh object on every call. Never throws.
 */
export function workloadJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(workloadSchemaForDocs, WORKLOAD_SCHEMA_ID);
}
