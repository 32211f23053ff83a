-- Which transaction last wrote each reservation and run estimate. A scheduling cycle keeps the live rows in
-- memory and reads only the rows whose writer its previous snapshot could not see (NOT pg_visible_in_snapshot),
-- instead of every live row each cycle: at 10,000 waiting, that read was three quarters of a cycle. A writer's
-- transaction id, not a sequence: sequence numbers are taken in one order and committed in another, so a
-- "greater than the last one seen" read would miss a slow writer's rows for good. The 64-bit id (it never
-- wraps), as a bigint compared with a literal bound: the planner estimates the range from the column's
-- statistics and reads the few changed rows through the index. Rows written before this migration keep null;
-- every reader starts from a full read, which sees them.
--
-- Deletions leave no row to read: every statement that deletes a reservation or an estimate (a retention run,
-- an operator, a test) or truncates either table moves qm_live_deletions.epoch, and a reader that sees it move
-- reads everything again. One row, read with the changes: no count of the live rows on every read.
ALTER TABLE qm_reservations ADD COLUMN changed_xid bigint;
ALTER TABLE qm_run_estimates ADD COLUMN changed_xid bigint;

CREATE FUNCTION qm_stamp_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.changed_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;

CREATE TRIGGER qm_reservations_changed BEFORE INSERT OR UPDATE ON qm_reservations
  FOR EACH ROW EXECUTE FUNCTION qm_stamp_changed();
CREATE TRIGGER qm_run_estimates_changed BEFORE INSERT OR UPDATE ON qm_run_estimates
  FOR EACH ROW EXECUTE FUNCTION qm_stamp_changed();

CREATE INDEX qm_reservations_changed ON qm_reservations (changed_xid);

CREATE TABLE qm_live_deletions (id int PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL);
INSERT INTO qm_live_deletions VALUES (1, 0);

CREATE FUNCTION qm_note_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM gone) THEN
    UPDATE qm_live_deletions SET epoch = epoch + 1 WHERE id = 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION qm_note_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE qm_live_deletions SET epoch = epoch + 1 WHERE id = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER qm_reservations_deleted AFTER DELETE ON qm_reservations
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION qm_note_deletions();
CREATE TRIGGER qm_run_estimates_deleted AFTER DELETE ON qm_run_estimates
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION qm_note_deletions();
CREATE TRIGGER qm_reservations_truncated AFTER TRUNCATE ON qm_reservations
  FOR EACH STATEMENT EXECUTE FUNCTION qm_note_truncate();
CREATE TRIGGER qm_run_estimates_truncated AFTER TRUNCATE ON qm_run_estimates
  FOR EACH STATEMENT EXECUTE FUNCTION qm_note_truncate();
