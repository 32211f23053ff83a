-- How a pending request may be split into shards (the stage's shard spec, as the scheduler reads it):
-- { maxShards, itemCount?, minItemsPerShard?, perShardFloor? }. NULL for a request that cannot be sharded
-- (and for every shard's own request: a shard never shards again).
ALTER TABLE qm_reservations ADD COLUMN shard_spec jsonb;
