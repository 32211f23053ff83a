import { InvalidBoostError } from './boost-book';
import { type BoostCapability, checkCapability, type NonceBook } from './capability';

export { InvalidBoostError } from './boost-book';

/** What a `boost` update or signal carries. */
export interface BoostRequest {
  /** Importance to add: 0 < amount ≤ 10 (≤ 3 without an admin capability); base + active boosts stay ≤ 10. */
  amount: number;
  /** How long it lasts: 1–86400 s (≤ 3600 without an admin capability). */
  ttlSeconds: number;
  /** Why (kept in the ledger's audit), at most 500 characters. */
  reason: string;
  /** Who asks (kept in the audit), at most 200 characters. @default 'unknown' */
  actor?: string;
  /**
   * An admin capability lifting the limits: signed with `QM_ADMIN_TOKEN` over this pipeline, amount, ttl,
   * reason, an expiry and a nonce (`qm boost --admin`, or `signBoostCapability`). The secret itself is never
   * sent.
   */
  capability?: BoostCapability;
}

/** A checked boost. */
export interface CheckedBoost {
  amount: number;
  ttlSeconds: number;
  reason: string;
  actor: string;
  /** Present for an admin boost: its MAC still has to be verified (`verifyBoostCapability`). */
  capability?: BoostCapability;
}

/** Limits on boosts. */
export const BOOST_LIMITS = {
  /** Largest amount with an admin capability. */
  maxAmount: 10,
  /** Longest ttl with an admin capability, s. */
  maxTtlSeconds: 86_400,
  /** Largest amount without it. */
  userMaxAmount: 3,
  /** Longest ttl without it, s. */
  userMaxTtlSeconds: 3_600,
  /** Longest `reason`, characters. */
  maxReasonLength: 500,
  /** Longest `actor`, characters. */
  maxActorLength: 200,
} as const;

/** Where a boost is checked: the pipeline's workflow id, workflow time, and the nonces it already accepted. */
export interface BoostContext {
  workflowId: string;
  now: Date;
  nonces?: NonceBook;
}

const FIELDS = ['amount', 'ttlSeconds', 'reason', 'actor', 'capability'];

/**
 * Checks a boost request (pure and synchronous: it runs as the `boost` update's validator inside the
 * workflow sandbox). With a `capability`, the admin limits apply once its fields match (its MAC is verified
 * afterwards by a local activity); the old `token` field is refused, since it would store the secret in
 * history. Messages describe bad values briefly (never a whole 1 MB reason).
 * @returns the normalised request.
 * @throws InvalidBoostError naming the field.
 */
export function checkBoostRequest(input: unknown, context: BoostContext): CheckedBoost {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidBoostError(
      '(root)',
      input,
      'must be an object { amount, ttlSeconds, reason, capability? }',
    );
  }
  const r = input as Record<string, unknown>;
  if (r.token !== undefined)
    throw new InvalidBoostError(
      'token',
      '***',
      'is no longer accepted: the admin secret would be stored in workflow history; send a signed capability instead (qm boost --admin, with QM_ADMIN_TOKEN set)',
    );
  for (const key of Object.keys(r)) {
    if (!FIELDS.includes(key)) {
      throw new InvalidBoostError(key.slice(0, 40), r[key], `is not a boost field (${FIELDS.join(', ')})`);
    }
  }
  const admin = r.capability !== undefined;
  const maxAmount = admin ? BOOST_LIMITS.maxAmount : BOOST_LIMITS.userMaxAmount;
  const maxTtl = admin ? BOOST_LIMITS.maxTtlSeconds : BOOST_LIMITS.userMaxTtlSeconds;
  const hint = admin ? '' : ' without an admin capability';
  if (typeof r.amount !== 'number' || !Number.isFinite(r.amount) || r.amount <= 0 || r.amount > maxAmount) {
    throw new InvalidBoostError('amount', r.amount, `must be a number > 0 and ≤ ${maxAmount}${hint}`);
  }
  if (
    typeof r.ttlSeconds !== 'number' ||
    !Number.isInteger(r.ttlSeconds) ||
    r.ttlSeconds < 1 ||
    r.ttlSeconds > maxTtl
  ) {
    throw new InvalidBoostError('ttlSeconds', r.ttlSeconds, `must be an integer from 1 to ${maxTtl}${hint}`);
  }
  if (
    typeof r.reason !== 'string' ||
    r.reason.trim() === '' ||
    r.reason.length > BOOST_LIMITS.maxReasonLength
  ) {
    throw new InvalidBoostError(
      'reason',
      r.reason,
      `must be a non-empty string of at most ${BOOST_LIMITS.maxReasonLength} characters`,
    );
  }
  if (
    r.actor !== undefined &&
    (typeof r.actor !== 'string' || r.actor.length > BOOST_LIMITS.maxActorLength)
  ) {
    throw new InvalidBoostError(
      'actor',
      r.actor,
      `must be a string of at most ${BOOST_LIMITS.maxActorLength} characters`,
    );
  }
  const boost = { amount: r.amount, ttlSeconds: r.ttlSeconds, reason: r.reason };
  return {
    ...boost,
    actor: (r.actor as string | undefined) ?? 'unknown',
    ...(admin ? { capability: checkCapability(r.capability, boost, context) } : {}),
  };
}
