-- The resource ledger: nodes (host capacity), custom pools (cluster-wide capacity), soft reservations
-- with leases, importance boosts and their audit trail. Quantities are double precision; every vector is
-- a jsonb object of resource name -> non-negative number (validated by the TypeScript API).

CREATE TABLE qm_nodes (
  id              text        PRIMARY KEY,
  task_queue      text        NOT NULL,
  -- Host resources only: cpu (cores), memoryMb, gpu (devices), diskIoMBps, netMbps.
  capacity        jsonb       NOT NULL,
  labels          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  registered_at   timestamptz NOT NULL,
  last_heartbeat  timestamptz NOT NULL,
  -- Latest monitor snapshot (written by src/monitor later): measured usage and its forecast.
  usage           jsonb,
  forecast        jsonb,
  usage_at        timestamptz
);

CREATE TABLE qm_pools (
  name        text             PRIMARY KEY,
  capacity    double precision NOT NULL CHECK (capacity >= 0),
  updated_at  timestamptz      NOT NULL
);

CREATE TABLE qm_reservations (
  key               text             PRIMARY KEY, -- idempotency key chosen by the requester
  workflow_id       text             NOT NULL,
  run_id            text,
  stage_id          text             NOT NULL,
  shard_index       int,
  priority          int              NOT NULL CHECK (priority BETWEEN 1 AND 10),
  importance        double precision NOT NULL DEFAULT 0,
  desired           jsonb            NOT NULL,
  minimum           jsonb            NOT NULL,
  granted           jsonb,
  node_id           text             REFERENCES qm_nodes (id),
  state             text             NOT NULL
    CHECK (state IN ('pending', 'granted', 'running', 'released', 'expired', 'cancelled')),
  lease_expires_at  timestamptz,
  requested_at      timestamptz      NOT NULL,
  granted_at        timestamptz,
  started_at        timestamptz,
  ended_at          timestamptz,
  updated_at        timestamptz      NOT NULL,
  -- The scheduler's last word on this request (filled by the scheduling cycle).
  last_score        double precision,
  score_breakdown   jsonb,
  reason            text,
  -- A held reservation always says where and what.
  CHECK (state NOT IN ('granted', 'running') OR (node_id IS NOT NULL AND granted IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- Active holdings are what every capacity check sums; keep them cheap to find.
CREATE INDEX qm_reservations_active ON qm_reservations (node_id) WHERE state IN ('granted', 'running');
CREATE INDEX qm_reservations_pending ON qm_reservations (requested_at) WHERE state = 'pending';
CREATE INDEX qm_reservations_workflow ON qm_reservations (workflow_id);

CREATE TABLE qm_boosts (
  id           bigserial        PRIMARY KEY,
  workflow_id  text             NOT NULL,
  amount       double precision NOT NULL,
  reason       text             NOT NULL,
  actor        text             NOT NULL,
  created_at   timestamptz      NOT NULL,
  expires_at   timestamptz      NOT NULL,
  expired_at   timestamptz -- set by expireBoosts once past expires_at
);
CREATE INDEX qm_boosts_live ON qm_boosts (expires_at) WHERE expired_at IS NULL;

CREATE TABLE qm_boost_audit (
  id           bigserial        PRIMARY KEY,
  boost_id     bigint           NOT NULL REFERENCES qm_boosts (id),
  action       text             NOT NULL CHECK (action IN ('added', 'expired')),
  workflow_id  text             NOT NULL,
  amount       double precision NOT NULL,
  reason       text             NOT NULL,
  actor        text             NOT NULL,
  at           timestamptz      NOT NULL
);
