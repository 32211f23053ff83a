-- The definition registry: named, versioned pipeline definitions (qm register / qm submit NAME).
CREATE TABLE qm_definitions (
  name        text        NOT NULL,
  version     int         NOT NULL CHECK (version >= 1),
  definition  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (name, version)
);
