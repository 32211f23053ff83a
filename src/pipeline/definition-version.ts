/**
 * Which registered version of its definition a pipeline runs, carried in the workflow's memo (set by
 * `startPipeline({ definitionVersion })`, e.g. `qm submit NAME`, and passed on to its shard children), so
 * execution records can name it. Pure: imported by workflows.
 */

/** The memo field holding the registered definition version. */
export const DEFINITION_VERSION_MEMO = 'qmDefinitionVersion';

/**
 * The registered definition version in a workflow's memo; undefined when absent or not an integer ≥ 1 (a
 * pipeline started from a file, or a memo someone else wrote: execution data then says "unknown").
 */
export function definitionVersionFromMemo(
  memo: Readonly<Record<string, unknown>> | undefined,
): number | undefined {
  const v = memo?.[DEFINITION_VERSION_MEMO];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined;
}
