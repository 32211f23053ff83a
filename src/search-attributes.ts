import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The pipeline's name (Keyword): `QmPipeline = "nightly-etl"` in the Web UI's filter. */
export const qmPipelineKey = defineSearchAttributeKey('QmPipeline', SearchAttributeType.KEYWORD);
/** The highest stage priority in the pipeline, 1–10 (Int). */
export const qmPriorityKey = defineSearchAttributeKey('QmPriority', SearchAttributeType.INT);
/**
 * The pipeline's state (Keyword): `running`, `completed`, `partial`, `failed`, `cancelled`, or `invalid` (its
 * argument failed validation). Shards carry their own: `running`, then `completed` or `failed`.
 */
export const qmStateKey = defineSearchAttributeKey('QmState', SearchAttributeType.KEYWORD);
/** The pipeline's importance: its base importance plus active boosts (Double). */
export const qmImportanceKey = defineSearchAttributeKey('QmImportance', SearchAttributeType.DOUBLE);

/** On a shard child workflow: the sharded stage's id (Keyword): `QmPipeline = "etl" AND QmStage = "total"`. */
export const qmStageKey = defineSearchAttributeKey('QmStage', SearchAttributeType.KEYWORD);
/** On a shard child workflow: its shard index, 0-based (Int). */
export const qmShardKey = defineSearchAttributeKey('QmShard', SearchAttributeType.INT);

/** Every custom search attribute Quartermaster writes, as `temporal` CLI `--search-attribute NAME=Type` pairs. */
export const QM_SEARCH_ATTRIBUTES: Readonly<Record<string, 'Keyword' | 'Int' | 'Double'>> = {
  QmPipeline: 'Keyword',
  QmPriority: 'Int',
  QmState: 'Keyword',
  QmImportance: 'Double',
  QmStage: 'Keyword',
  QmShard: 'Int',
};
