-- How long the requesting stage usually runs at its desired allocation, in seconds (the stage's
-- `expectedSeconds`, scaled by item share for a shard): read by the scheduler's start-time estimates, never
-- enforced. NULL when the stage does not say (estimates then assume it holds its grant for ever).
ALTER TABLE qm_reservations ADD COLUMN expected_seconds double precision;
