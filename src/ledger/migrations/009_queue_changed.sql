-- Whether the waiting queue changed since the scheduler last refreshed it (wait notes, estimates, the `queue`
-- query): set by every raised wake (a request, a release), cleared by the refreshing cycle. Releases and
-- requests decide inline now, so the scheduler is rarely signalled and learns of changes here.
ALTER TABLE qm_scheduler ADD COLUMN queue_changed boolean NOT NULL DEFAULT true;
