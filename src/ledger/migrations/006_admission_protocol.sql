-- The admission protocol (src/admission): every request is leased, pending ones too; every lease is
-- computed on this database's clock; decisions reach the waiting requester through the ledger.

-- A pending request's lease is renewed by its waiting activity; a lapsed one means the requester is gone.
-- (lease_expires_at already exists; it is now set for pending rows as well.)
--
-- shard_order: the scheduler's decision to split a pending request ({ shardCount, perShard }); the
--   requester reads it, withdraws the request and starts its shards.
-- avoid_node: the node that just lost this stage (its worker died or never picked the stage up); the
--   scheduler places the request elsewhere whenever another node fits.
ALTER TABLE qm_reservations
  ADD COLUMN shard_order jsonb,
  ADD COLUMN avoid_node  text;

CREATE INDEX qm_reservations_pending_lease ON qm_reservations (lease_expires_at) WHERE state = 'pending';
CREATE INDEX qm_reservations_held_lease ON qm_reservations (lease_expires_at) WHERE state IN ('granted', 'running');

-- The scheduler's wake flag: at most one outstanding wake signal (set with UPDATE … WHERE NOT
-- wake_requested RETURNING, cleared by each cycle), and when the last cycle ran (a requester that sees no
-- recent cycle starts the scheduler).
CREATE TABLE qm_scheduler (
  id              int         PRIMARY KEY CHECK (id = 1),
  wake_requested  boolean     NOT NULL DEFAULT false,
  last_cycle_at   timestamptz
);
INSERT INTO qm_scheduler (id) VALUES (1);
