-- Execution data (src/ledger/executions.ts): one row per ended stage attempt (or shard attempt), written by
-- the very statement that ends its reservation (release, expiry, withdrawal, cancellation), so no attempt is
-- lost when a worker dies and no extra round trip is paid; learned run times per stage key, refreshed by the
-- release that completes a run; and the accuracy of start and run-time estimates, as a view.

-- Who asked, carried on the request so the ending statement can record it without asking the workflow:
-- definition_name/version: the pipeline's definition (version null: started from a file, not the registry);
-- handler: the stage's handler; attempt: the stage's attempt number (renewals ~n share it);
-- shrinks: how many shrink offers its holder accepted; estimated_start_at: the start the scheduler last
-- estimated for it while it waited (written by each full cycle for the rows it estimated).
ALTER TABLE qm_reservations
  ADD COLUMN definition_name    text,
  ADD COLUMN definition_version int,
  ADD COLUMN handler            text,
  ADD COLUMN attempt            int NOT NULL DEFAULT 1 CHECK (attempt >= 1),
  ADD COLUMN shrinks            int NOT NULL DEFAULT 0,
  ADD COLUMN estimated_start_at timestamptz;

-- How fast a stage runs on `granted` relative to `desired`: granted.cpu / desired.cpu clamped to [0.01, 1],
-- 1 when it asks for no CPU. The SQL twin of cpuRate() in src/scheduling/runtime.ts (a test keeps them equal).
CREATE FUNCTION qm_cpu_rate(granted jsonb, desired jsonb) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
             WHEN coalesce((desired ->> 'cpu')::double precision, 0) <= 0 THEN 1
             ELSE greatest(0.01, least(1, coalesce((granted ->> 'cpu')::double precision, 0)
                                          / (desired ->> 'cpu')::double precision))
           END
  $$;

CREATE TABLE qm_executions (
  id                  bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The reservation key without its renewal suffix (`~n`): a request that ended before it ran and was asked
  -- again under `key~1` is the same attempt, so the attempt keeps one row (the later reservation's).
  attempt_key         text             NOT NULL UNIQUE,
  reservation_key     text             NOT NULL,
  workflow_id         text             NOT NULL,
  run_id              text,
  definition_name     text,
  definition_version  int,
  stage_id            text             NOT NULL,
  shard_index         int,
  handler             text,
  attempt             int              NOT NULL,
  priority            int              NOT NULL,
  importance          double precision NOT NULL,
  desired             jsonb            NOT NULL,
  minimum             jsonb            NOT NULL,
  granted             jsonb,
  reduced             boolean          NOT NULL,
  shrinks             int              NOT NULL,
  node_id             text,            -- no foreign key: a record outlives its node's registration
  expected_seconds    double precision, -- declared by the stage
  -- The run time predicted at `desired` when the attempt ended: the declared one, else the learned one (null:
  -- none); predicted_source says which.
  predicted_seconds   double precision,
  predicted_source    text             CHECK (predicted_source IN ('declared', 'learned')),
  requested_at        timestamptz      NOT NULL,
  granted_at          timestamptz,
  started_at          timestamptz,
  ended_at            timestamptz      NOT NULL,
  estimated_start_at  timestamptz,
  outcome             text             NOT NULL CHECK (outcome IN ('completed', 'failed', 'cancelled', 'expired')),
  -- ended − started, seconds (null when it never started); the CPU share it ran at; the run time normalised
  -- to `desired` (run_seconds × cpu_rate), which is what learned estimates are made of.
  run_seconds         double precision,
  cpu_rate            double precision NOT NULL,
  normalised_seconds  double precision GENERATED ALWAYS AS (run_seconds * cpu_rate) STORED
);

-- Learned estimates read the last completed runs of one key, newest first.
CREATE INDEX qm_executions_learning ON qm_executions (definition_name, stage_id, handler, ended_at DESC)
  WHERE outcome = 'completed' AND shard_index IS NULL AND normalised_seconds IS NOT NULL;
-- History (newest first, since a time) and retention (oldest first).
CREATE INDEX qm_executions_ended ON qm_executions (ended_at);

-- Learned run time per stage key: a high quantile of the recent completed runs' normalised seconds, with
-- how many runs it is made of; refreshed by the release that completes a run, read by every snapshot.
CREATE TABLE qm_run_estimates (
  definition_name  text             NOT NULL,
  stage_id         text             NOT NULL,
  handler          text             NOT NULL,
  seconds          double precision NOT NULL CHECK (seconds >= 0),
  samples          int              NOT NULL CHECK (samples >= 1),
  updated_at       timestamptz      NOT NULL,
  PRIMARY KEY (definition_name, stage_id, handler)
);

-- How good the estimates were, per stage key and kind, error = actual − estimated (positive: later or longer
-- than estimated):
-- 'start': started_at − estimated_start_at, over attempts that started after an estimate;
-- 'run-time': run_seconds − predicted run time at the granted CPU share, over completed attempts with a
--   prediction, split by its source (declared, learned).
CREATE VIEW qm_estimate_accuracy AS
  WITH errors AS (
    SELECT coalesce(definition_name, '') AS definition_name, stage_id, coalesce(handler, '') AS handler,
           'start'::text AS kind, NULL::text AS source,
           extract(epoch FROM started_at - estimated_start_at)::double precision AS error_seconds
      FROM qm_executions
     WHERE started_at IS NOT NULL AND estimated_start_at IS NOT NULL
    UNION ALL
    SELECT coalesce(definition_name, ''), stage_id, coalesce(handler, ''), 'run-time', predicted_source,
           run_seconds - predicted_seconds / cpu_rate
      FROM qm_executions
     WHERE outcome = 'completed' AND run_seconds IS NOT NULL AND predicted_seconds IS NOT NULL
  )
  SELECT definition_name, stage_id, handler, kind, source,
         count(*)::int AS n,
         avg(abs(error_seconds)) AS mae_seconds,
         avg(error_seconds) AS bias_seconds,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY abs(error_seconds)) AS p90_abs_seconds
    FROM errors
   GROUP BY definition_name, stage_id, handler, kind, source;
