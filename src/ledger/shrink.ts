/**
 * Graceful degradation in the ledger: the scheduler offers a held reservation a smaller allocation
 * ({@link offerShrinks}); its stage learns of the offer through its lease renewal and either accepts it
 * ({@link acceptShrink}: the grant becomes the offered vector and the difference is freed, in one
 * transaction) or declines it ({@link declineShrink}). Offers nobody answers are cleared by
 * {@link expireShrinkOffers}; {@link shrinkState} tells the scheduler what is pending and whom to leave alone.
 */
import type pg from 'pg';
import type { Database } from './db';
import { inTransaction } from './db';
import { InvalidLedgerArgumentError, StaleShrinkOfferError, translateDbError } from './errors';
import { named } from './transaction';
import { isHostResource, type ResourceVector, type ShrinkOfferRecord } from './types';
import { checkId, checkVector, EPSILON } from './vectors';

/** One offer the scheduler wants recorded (from `degrade`'s `ShrinkOffer`). */
export interface ShrinkOfferInput {
  /** The held reservation to shrink. */
  key: string;
  /** The whole smaller grant: the same resource names as its grant, each between its minimum and grant. */
  to: ResourceVector;
  /** The blocked pending request the offer makes room for. */
  forKey: string;
}

/** Why an offer was not recorded. */
export type OfferSkipReason =
  | 'unknown-reservation'
  | 'not-held'
  | 'offer-pending'
  | 'request-not-pending'
  | 'invalid-vector'
  | 'no-change'
  | 'followed';

/** Result of {@link offerShrinks}: every input is in exactly one list, in input order. */
export interface OfferResult {
  /** Offers written. */
  offered: ShrinkOfferRecord[];
  /** Offers refused (nothing written for them), with a machine reason and a detail naming the numbers. */
  skipped: Array<{ key: string; reason: OfferSkipReason; detail: string }>;
}

/** Result of {@link expireShrinkOffers}. */
export interface ExpireOffersResult {
  /** Offers older than `maxAgeMs` that nobody answered: cleared and counted as declined. Sorted keys. */
  expired: string[];
  /** Offers no longer needed (the blocked request left `pending`, or the holder stopped holding). Sorted keys. */
  withdrawn: string[];
}

/** What {@link shrinkState} reports. */
export interface ShrinkState {
  /** Offers waiting for an answer, by key. */
  pending: ShrinkOfferRecord[];
  /** Held reservations that declined (or ignored) an offer less than `cooldownMs` ago, sorted. */
  declined: string[];
}

/** Identifies one offer when it is answered: the reservation and when the offer was made. */
export interface OfferRef {
  /** Reservation key. */
  key: string;
  /** `ShrinkOfferRecord.offeredAt` of the offer being answered. */
  offeredAt: Date;
}

/** Result of {@link acceptShrink}. */
export interface ShrinkResult {
  /** Reservation key. */
  key: string;
  /** Its node. */
  nodeId: string;
  /** What it held before. */
  from: ResourceVector;
  /** What it holds now (the offer). */
  granted: ResourceVector;
  /** `from − granted` per resource: what went back to its node and pools. */
  freed: ResourceVector;
}

interface OfferRow {
  key: string;
  node_id: string;
  granted: ResourceVector;
  offer_to: ResourceVector;
  offer_for: string;
  offered_at: Date;
}

function toOffer(r: OfferRow): ShrinkOfferRecord {
  return {
    key: r.key,
    nodeId: r.node_id,
    from: r.granted,
    to: r.offer_to,
    forKey: r.offer_for,
    offeredAt: r.offered_at,
  };
}

/**
 * Checks an offered vector against a grant and its minimum (pure): the same names as `granted`, each
 * `minimum ≤ to ≤ granted`, and at least one strictly smaller.
 * @returns null when valid, else why not (reason and a detail naming the resource and numbers).
 */
export function checkOfferVector(
  granted: ResourceVector,
  minimum: ResourceVector,
  to: ResourceVector,
): { reason: 'invalid-vector' | 'no-change'; detail: string } | null {
  const extra = Object.keys(to).find((r) => !(r in granted));
  if (extra !== undefined) return { reason: 'invalid-vector', detail: `${extra} is not granted` };
  let smaller = false;
  for (const [r, g] of Object.entries(granted)) {
    const v = to[r];
    if (v === undefined) return { reason: 'invalid-vector', detail: `${r} is missing from the offer` };
    const min = minimum[r] ?? 0;
    if (v + EPSILON < min) return { reason: 'invalid-vector', detail: `${r}: offered ${v} < minimum ${min}` };
    if (v > g + EPSILON) return { reason: 'invalid-vector', detail: `${r}: offered ${v} > granted ${g}` };
    if (v < g - EPSILON) smaller = true;
  }
  return smaller ? null : { reason: 'no-change', detail: 'the offer is not smaller than the grant' };
}

/**
 * Records shrink offers in one transaction, each re-checked under a row lock on its reservation: it must be
 * held (granted or running, lease not past), neither followed by a successor nor behind another (`followed`),
 * have no offer pending, the offer must be a valid smaller
 * vector ({@link checkOfferVector}), and the request it is for must still be pending. Refused offers are
 * returned in `skipped`; the others are written. Nothing is freed here: only {@link acceptShrink} frees.
 * @throws InvalidLedgerArgumentError / InvalidQuantityError for a malformed input (nothing written);
 *   DatabaseUnavailableError.
 */
export async function offerShrinks(
  db: Database,
  offers: readonly ShrinkOfferInput[],
  now: Date,
): Promise<OfferResult> {
  const checked = offers.map((o, i) => ({
    key: checkId(`offers[${i}].key`, o.key),
    forKey: checkId(`offers[${i}].forKey`, o.forKey),
    to: checkVector(`offers[${i}].to`, o.to),
  }));
  if (checked.length === 0) return { offered: [], skipped: [] };
  return inTransaction(db, 'offer shrinks', async (client) => {
    const keys = [...new Set(checked.map((o) => o.key))].sort();
    const { rows } = await client.query<{
      key: string;
      state: string;
      node_id: string | null;
      granted: ResourceVector | null;
      minimum: ResourceVector;
      lease_expires_at: Date | null;
      offer_to: ResourceVector | null;
    }>(
      `SELECT key, state, node_id, granted, minimum, lease_expires_at, offer_to FROM qm_reservations
        WHERE key = ANY($1) ORDER BY key FOR UPDATE`,
      [keys],
    );
    const held = new Map(rows.map((r) => [r.key, r]));
    // A grant promised to a successor (or one still waiting behind another) is never shrunk: read after the
    // rows are locked, so a successor committed meanwhile is seen (the commit locks the predecessor too).
    const chained = await client.query<{ key: string }>(
      `SELECT behind AS key FROM qm_reservations WHERE behind = ANY($1) AND state IN ('granted', 'running')
       UNION SELECT key FROM qm_reservations WHERE key = ANY($1) AND behind IS NOT NULL`,
      [keys],
    );
    const followed = new Set(chained.rows.map((r) => r.key));
    const forKeys = [...new Set(checked.map((o) => o.forKey))];
    const pending = await client.query<{ key: string }>(
      `SELECT key FROM qm_reservations WHERE key = ANY($1) AND state = 'pending'`,
      [forKeys],
    );
    const pendingKeys = new Set(pending.rows.map((r) => r.key));
    const result: OfferResult = { offered: [], skipped: [] };
    const writes: Array<{ key: string; to: ResourceVector; forKey: string }> = [];
    const seen = new Set<string>();
    for (const o of checked) {
      const r = held.get(o.key);
      const skip = (reason: OfferSkipReason, detail: string): void => {
        result.skipped.push({ key: o.key, reason, detail });
      };
      if (r === undefined) {
        skip('unknown-reservation', `no reservation with key "${o.key}"`);
        continue;
      }
      if (
        (r.state !== 'granted' && r.state !== 'running') ||
        r.granted === null ||
        r.node_id === null ||
        (r.lease_expires_at !== null && r.lease_expires_at.getTime() <= now.getTime())
      ) {
        skip('not-held', `"${o.key}" is ${r.state}${r.state === 'pending' ? '' : ' or its lease ended'}`);
        continue;
      }
      if (followed.has(o.key)) {
        skip('followed', `"${o.key}" has a successor waiting for its capacity, or waits behind another`);
        continue;
      }
      if (r.offer_to !== null || seen.has(o.key)) {
        skip('offer-pending', `"${o.key}" already has an offer waiting for an answer`);
        continue;
      }
      if (!pendingKeys.has(o.forKey)) {
        skip('request-not-pending', `the request "${o.forKey}" is not pending`);
        continue;
      }
      const bad = checkOfferVector(r.granted, r.minimum, o.to);
      if (bad !== null) {
        skip(bad.reason, bad.detail);
        continue;
      }
      // Store the whole vector in the grant's names (an offer never adds a resource).
      const to: ResourceVector = {};
      for (const name of Object.keys(r.granted)) to[name] = o.to[name] as number;
      seen.add(o.key);
      writes.push({ key: o.key, to, forKey: o.forKey });
      result.offered.push({
        key: o.key,
        nodeId: r.node_id,
        from: r.granted,
        to,
        forKey: o.forKey,
        offeredAt: now,
      });
    }
    if (writes.length > 0) {
      await client.query(
        `UPDATE qm_reservations r
            SET offer_to = w.to_vec, offer_for = w.for_key, offered_at = $2, updated_at = $2
           FROM jsonb_to_recordset($1::jsonb) AS w(key text, to_vec jsonb, for_key text)
          WHERE r.key = w.key`,
        [JSON.stringify(writes.map((w) => ({ key: w.key, to_vec: w.to, for_key: w.forKey }))), now],
      );
    }
    return result;
  });
}

/**
 * Clears offers that should no longer wait: older than `maxAgeMs` (unanswered: counted as declined, so
 * {@link shrinkState} lists the holder in `declined` for a while), or no longer needed — the request they
 * were for left `pending` (granted, withdrawn, gone) or the holder no longer holds (not counted as declined).
 * @throws InvalidLedgerArgumentError for a bad `maxAgeMs`; DatabaseUnavailableError.
 */
export async function expireShrinkOffers(
  db: Database,
  now: Date,
  options: { maxAgeMs: number },
): Promise<ExpireOffersResult> {
  if (!Number.isFinite(options.maxAgeMs) || options.maxAgeMs <= 0)
    throw new InvalidLedgerArgumentError('maxAgeMs', options.maxAgeMs, 'a finite number > 0');
  const cutoff = new Date(now.getTime() - options.maxAgeMs);
  try {
    const { rows } = await db.pool.query<{ key: string; too_old: boolean }>(
      `WITH stale AS (
         SELECT r.key,
                (r.state IN ('granted', 'running') AND r.offered_at <= $2) AS too_old
           FROM qm_reservations r
          WHERE r.offer_to IS NOT NULL
            AND (r.state NOT IN ('granted', 'running')
                 OR r.offered_at <= $2
                 OR NOT EXISTS (SELECT 1 FROM qm_reservations b WHERE b.key = r.offer_for AND b.state = 'pending'))
       )
       UPDATE qm_reservations r
          SET offer_to = NULL, offer_for = NULL, offered_at = NULL, updated_at = $1,
              offer_declined_at = CASE WHEN s.too_old THEN $1 ELSE r.offer_declined_at END
         FROM stale s
        WHERE r.key = s.key AND r.offer_to IS NOT NULL
       RETURNING r.key, s.too_old`,
      [now, cutoff],
    );
    const expired = rows.filter((r) => r.too_old).map((r) => r.key);
    const withdrawn = rows.filter((r) => !r.too_old).map((r) => r.key);
    return { expired: expired.sort(), withdrawn: withdrawn.sort() };
  } catch (err) {
    throw translateDbError(err, 'expire shrink offers');
  }
}

/**
 * The offers waiting for an answer, and the holders that declined (or ignored) one less than `cooldownMs`
 * before `now` — the scheduler offers them nothing new meanwhile.
 * @throws InvalidLedgerArgumentError for a bad `cooldownMs`; DatabaseUnavailableError.
 */
export async function shrinkState(
  db: Database,
  now: Date,
  options: { cooldownMs: number },
): Promise<ShrinkState> {
  if (!Number.isFinite(options.cooldownMs) || options.cooldownMs < 0)
    throw new InvalidLedgerArgumentError('cooldownMs', options.cooldownMs, 'a finite number >= 0');
  try {
    const { rows } = await db.pool.query<OfferRow & { declined: boolean }>(
      `SELECT key, node_id, granted, offer_to, offer_for, offered_at,
              (offer_declined_at IS NOT NULL AND offer_declined_at > $1) AS declined
         FROM qm_reservations
        WHERE state IN ('granted', 'running')
          AND (offer_to IS NOT NULL OR (offer_declined_at IS NOT NULL AND offer_declined_at > $1))
        ORDER BY key`,
      [new Date(now.getTime() - options.cooldownMs)],
    );
    return {
      pending: rows.filter((r) => r.offer_to !== null).map(toOffer),
      declined: rows.filter((r) => r.declined).map((r) => r.key),
    };
  } catch (err) {
    throw translateDbError(err, 'read shrink offers');
  }
}

/** Null when `ref` is the pending offer of a held reservation; else why it is stale. */
function offerOf(row: HeldForShrink, ref: OfferRef, now: Date): StaleShrinkOfferError | null {
  if (
    (row.state !== 'granted' && row.state !== 'running') ||
    row.granted === null ||
    row.node_id === null ||
    (row.lease_expires_at !== null && row.lease_expires_at.getTime() <= now.getTime())
  )
    return new StaleShrinkOfferError(ref.key, 'not-held', ref.offeredAt);
  if (row.offer_to === null || row.offered_at === null)
    return new StaleShrinkOfferError(ref.key, 'no-offer', ref.offeredAt);
  if (row.offered_at.getTime() !== ref.offeredAt.getTime())
    return new StaleShrinkOfferError(ref.key, 'superseded', ref.offeredAt);
  return null;
}

function checkRef(ref: OfferRef): OfferRef {
  checkId('offer.key', ref.key);
  if (!(ref.offeredAt instanceof Date) || Number.isNaN(ref.offeredAt.getTime()))
    throw new InvalidLedgerArgumentError('offer.offeredAt', ref.offeredAt, 'a valid Date');
  return ref;
}

/**
 * The holder acknowledges the offer `ref`: in ONE transaction its grant becomes the offered vector, the
 * offer is cleared, and the difference returns to its node and pools. Same lock discipline as
 * `commitDecisions` (row locks, one round trip, in a fixed order: the node row, then the pool rows, then
 * the reservation, each `FOR UPDATE` in name order), so a concurrent commit on that node sees the grant
 * either before or after, never half of it.
 * @throws StaleShrinkOfferError (nothing changed; it keeps its grant) when the offer was cleared, replaced,
 *   or the reservation no longer holds (an unknown key included: `not-held`); InvalidLedgerArgumentError for a malformed `ref`; DatabaseUnavailableError.
 */
export async function acceptShrink(db: Database, ref: OfferRef, now: Date): Promise<ShrinkResult> {
  checkRef(ref);
  type Outcome = { stale: StaleShrinkOfferError } | { result: ShrinkResult };
  const outcome = await inTransaction(db, 'accept shrink', async (client): Promise<Outcome> => {
    // Where it holds, read before locking only to know which node and pool rows to lock; re-read under them.
    const { rows: peek } = await client.query<{ node_id: string | null; granted: ResourceVector | null }>(
      'SELECT node_id, granted FROM qm_reservations WHERE key = $1',
      [ref.key],
    );
    const first = peek[0];
    if (first === undefined || first.node_id === null || first.granted === null)
      return { stale: new StaleShrinkOfferError(ref.key, 'not-held', ref.offeredAt) };
    const row = await lockForShrink(client, ref.key, first.node_id, first.granted);
    const stale = offerOf(row, ref, now);
    if (stale !== null) return { stale };
    const from = row.granted as ResourceVector;
    const to = row.offer_to as ResourceVector;
    const freed: ResourceVector = {};
    for (const [r, v] of Object.entries(from)) freed[r] = v - (to[r] ?? v);
    await client.query(
      named(
        'qm-accept-shrink',
        `UPDATE qm_reservations
            SET granted = offer_to, offer_to = NULL, offer_for = NULL, offered_at = NULL, updated_at = $2,
                shrinks = shrinks + 1
          WHERE key = $1`,
        [ref.key, now],
      ),
    );
    return { result: { key: ref.key, nodeId: row.node_id as string, from, granted: to, freed } };
  });
  if ('stale' in outcome) throw outcome.stale;
  return outcome.result;
}

/** The reservation's columns a shrink needs, as locked. */
interface HeldForShrink {
  state: string;
  node_id: string | null;
  granted: ResourceVector | null;
  lease_expires_at: Date | null;
  offer_to: ResourceVector | null;
  offered_at: Date | null;
}

/** The same, as `json_agg` returns it (timestamps as ISO strings). */
type HeldForShrinkJson = Omit<HeldForShrink, 'lease_expires_at' | 'offered_at'> & {
  lease_expires_at: string | null;
  offered_at: string | null;
};

/**
 * Locks, in one round trip and commit's order, the node row, the pool rows of `granted`, then the
 * reservation, and returns the reservation as locked (state `gone` when the key does not exist).
 */
async function lockForShrink(
  client: pg.PoolClient,
  key: string,
  nodeId: string,
  granted: ResourceVector,
): Promise<HeldForShrink> {
  const pools = Object.keys(granted)
    .filter((r) => !isHostResource(r))
    .sort();
  const { rows } = await client.query<{ reservation: HeldForShrinkJson[] | null }>({
    name: 'qm-shrink-lock',
    text: `SELECT
      (SELECT json_agg(n) FROM (SELECT id FROM qm_nodes WHERE id = $1 ORDER BY id FOR UPDATE) n) AS nodes,
      (SELECT json_agg(p) FROM (SELECT name FROM qm_pools WHERE name = ANY($2) ORDER BY name FOR UPDATE) p) AS pools,
      (SELECT json_agg(r) FROM (SELECT state, node_id, granted, lease_expires_at, offer_to, offered_at
                                  FROM qm_reservations WHERE key = $3 FOR UPDATE) r) AS reservation`,
    values: [nodeId, pools, key],
  });
  const r = rows[0]?.reservation?.[0];
  if (r === undefined)
    return {
      state: 'gone',
      node_id: null,
      granted: null,
      lease_expires_at: null,
      offer_to: null,
      offered_at: null,
    };
  const date = (v: string | null): Date | null => (v === null ? null : new Date(v));
  return { ...r, lease_expires_at: date(r.lease_expires_at), offered_at: date(r.offered_at) };
}

/**
 * The holder declines the offer `ref` (or its stage has no listener): the offer is cleared and the
 * reservation stamped declined, so {@link shrinkState} keeps it out of new offers for the cooldown.
 * It keeps its grant.
 * @returns false when the offer was already gone (cleared, replaced, or the reservation ended): nothing changed.
 * @throws InvalidLedgerArgumentError for a malformed `ref`; DatabaseUnavailableError.
 */
export async function declineShrink(db: Database, ref: OfferRef, now: Date): Promise<boolean> {
  checkRef(ref);
  try {
    const { rowCount } = await db.pool.query(
      `UPDATE qm_reservations
          SET offer_to = NULL, offer_for = NULL, offered_at = NULL, offer_declined_at = $3, updated_at = $3
        WHERE key = $1 AND offered_at = $2`,
      [ref.key, ref.offeredAt, now],
    );
    return (rowCount ?? 0) > 0;
  } catch (err) {
    throw translateDbError(err, 'decline shrink');
  }
}
