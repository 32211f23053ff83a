/**
 * Size limits on shard results: they travel through Temporal's history (the shard's, then the parent's)
 * and all of a stage's results form the reducer's input, so a large output must be written elsewhere and
 * returned as a reference (a URI). Pure: imported by workflows.
 */
import { MAX_SHARD_RESULT_BYTES, MAX_SHARD_RESULTS_TOTAL_BYTES } from '../definition/limits';

/** The failure type of a shard result (or a stage's results together) over the limit. */
export const SHARD_RESULT_TOO_LARGE = 'ShardResultTooLargeError';

/** UTF-8 length of a string, without allocating (the workflow sandbox need not have `TextEncoder`). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of `value` as JSON (UTF-8); `undefined` (not JSON) counts as 0. Never throws for JSON values. */
export function jsonByteLength(value: unknown): number {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : utf8Length(text);
}

/**
 * Why a shard's result is too large to carry, or `undefined` when it fits
 * ({@link MAX_SHARD_RESULT_BYTES}: 64 KiB of JSON).
 */
export function shardResultProblem(stageId: string, index: number, output: unknown): string | undefined {
  const bytes = jsonByteLength(output);
  if (bytes <= MAX_SHARD_RESULT_BYTES) return undefined;
  return (
    `shard ${index} of "${stageId}" returned ${bytes} bytes of JSON, over the ${MAX_SHARD_RESULT_BYTES}-byte ` +
    'limit on a shard result (results travel through Temporal history): write the data elsewhere and ' +
    'return a reference to it (a URI)'
  );
}

/**
 * Why a stage's shard results together are too large for the reducer's input, or `undefined` when they fit
 * ({@link MAX_SHARD_RESULTS_TOTAL_BYTES}: 1.5 MiB).
 */
export function shardResultsProblem(stageId: string, outputs: readonly unknown[]): string | undefined {
  let bytes = 0;
  for (const output of outputs) bytes += jsonByteLength(output);
  if (bytes <= MAX_SHARD_RESULTS_TOTAL_BYTES) return undefined;
  return (
    `the ${outputs.length} shard results of "${stageId}" total ${bytes} bytes of JSON, over the ` +
    `${MAX_SHARD_RESULTS_TOTAL_BYTES}-byte limit on a reducer's input: return references (URIs) from the shards`
  );
}
