-- Graceful degradation: a pending offer of a smaller allocation to a held (granted or running) reservation.
-- The scheduler writes it (offer_to = the whole new grant vector, same names as `granted`, each between
-- `minimum` and `granted`; offer_for = the blocked request it is for); the stage's lease renewal reads it;
-- the handler's acknowledgement (acceptShrink) sets granted = offer_to and clears it in one transaction, so
-- the difference is freed only then. A declined, ignored (too old) offer is cleared and stamps
-- offer_declined_at, so the scheduler leaves that reservation alone for a while.
ALTER TABLE qm_reservations
  ADD COLUMN offer_to          jsonb,
  ADD COLUMN offer_for         text,
  ADD COLUMN offered_at        timestamptz,
  ADD COLUMN offer_declined_at timestamptz,
  -- An offer is whole or absent.
  ADD CONSTRAINT qm_reservations_offer_whole
    CHECK ((offer_to IS NULL) = (offered_at IS NULL) AND (offer_to IS NULL) = (offer_for IS NULL));

CREATE INDEX qm_reservations_offers ON qm_reservations (offered_at) WHERE offer_to IS NOT NULL;
