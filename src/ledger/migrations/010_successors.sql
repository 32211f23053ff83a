-- Successor grants: a request granted *behind* a held reservation on the same node (possibly itself a successor),
-- ahead of that reservation's expected end, so its pickup (the waiter's activity completing, a workflow task, the node's poll) overlaps the
-- predecessor's run. behind: the predecessor's key while the successor waits for its capacity; null once
-- promoted. A successor's grant is carved from its predecessor's (never larger, resource by resource), so it
-- is not counted in any capacity sum while behind is set: capacity is counted once. It may not start (its
-- stage waits at the gate in runStage) until promoted. promoted_at: when a successor's predecessor ended and
-- the capacity became its own (null for a grant that was never behind another).
ALTER TABLE qm_reservations ADD COLUMN behind text, ADD COLUMN promoted_at timestamptz;

-- At most one live successor per predecessor.
CREATE UNIQUE INDEX qm_reservations_behind ON qm_reservations (behind)
  WHERE behind IS NOT NULL AND state IN ('granted', 'running');

-- Promotion: whatever ends a held reservation (release, expiry, cancellation, withdrawal) hands its capacity
-- to its live successor in the same statement, and announces the successor's key on the decision channel so
-- its gate opens at once. Successors may form a chain (each carved from the one before); when a link ends while
-- still behind another (its requester is gone), the link after it moves up behind that one instead: capacity
-- passes only from a holder that really held it. A trigger, so that no path that ends a reservation can
-- forget it.
CREATE FUNCTION qm_promote_successor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  successor text;
BEGIN
  FOR successor IN
    UPDATE qm_reservations
       SET behind = NEW.behind,
           promoted_at = CASE WHEN NEW.behind IS NULL THEN clock_timestamp() ELSE promoted_at END
     WHERE behind = NEW.key AND state IN ('granted', 'running')
    RETURNING key
  LOOP
    IF NEW.behind IS NULL THEN
      PERFORM pg_notify('qm_admission_' || TG_TABLE_SCHEMA, successor);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

CREATE TRIGGER qm_promote_successor
  AFTER UPDATE OF state ON qm_reservations
  FOR EACH ROW
  WHEN (OLD.state IN ('granted', 'running') AND NEW.state NOT IN ('granted', 'running'))
  EXECUTE FUNCTION qm_promote_successor();
