-- Whether the waiting queue changed since the scheduler last refreshed it (wait notes, estimates, the `queue`
-- query): set by every raised wake (a request, a release), cleared by the refreshing cycle. Releases and
-- requests decide inline now, so the scheduler is rarely signalled and learns of changes here.
ALTER TABLE qm_scheduler ADD COLUMN queue_changed boolean NOT NULL DEFAULT true;

-- When a requester last signalled a scheduler that seemed not to run (no cycle of its own for a while): at
-- most one such signal per staleness period, so a burst of requests before its first cycle sends one, not one
-- each (measured: 1,398 signals from 1,000 requests started at once on a fresh cluster).
ALTER TABLE qm_scheduler ADD COLUMN stale_signalled_at timestamptz;
