import { InvalidBoostError } from './boost-book';
import { constantTimeEqual, sha256Hex } from './sha256';

export { InvalidBoostError } from './boost-book';

/** What a `boost` update or signal carries. */
export interface BoostRequest {
  /** Importance to add: 0 < amount ≤ 10 (≤ 3 without the admin token). */
  amount: number;
  /** How long it lasts: 1–86400 s (≤ 3600 without the admin token). */
  ttlSeconds: number;
  /** Why (kept in the ledger's audit). */
  reason: string;
  /** Who asks (kept in the audit). @default 'unknown' */
  actor?: string;
  /** The admin token (`QM_ADMIN_TOKEN` on the workers), lifting the limits. */
  token?: string;
}

/** Limits on boosts. */
export const BOOST_LIMITS = {
  /** Largest amount with the admin token. */
  maxAmount: 10,
  /** Longest ttl with the admin token, s. */
  maxTtlSeconds: 86_400,
  /** Largest amount without it. */
  userMaxAmount: 3,
  /** Longest ttl without it, s. */
  userMaxTtlSeconds: 3_600,
} as const;

/**
 * Checks a boost request (pure and synchronous: it runs as the `boost` update's validator inside the
 * workflow sandbox). The admin token is compared by SHA-256 in constant time against the hash the workers
 * hold; with no admin token configured (`adminTokenSha256` null) only the user limits apply.
 * @returns the normalised request (without the token).
 * @throws InvalidBoostError naming the field and the value.
 */
export function checkBoostRequest(
  input: unknown,
  adminTokenSha256: string | null,
): Required<Omit<BoostRequest, 'token'>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidBoostError('(root)', input, 'must be an object { amount, ttlSeconds, reason, token? }');
  }
  const r = input as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!['amount', 'ttlSeconds', 'reason', 'actor', 'token'].includes(key)) {
      throw new InvalidBoostError(
        key,
        r[key],
        'is not a boost field (amount, ttlSeconds, reason, actor, token)',
      );
    }
  }
  let admin = false;
  if (r.token !== undefined) {
    if (
      typeof r.token !== 'string' ||
      adminTokenSha256 === null ||
      !constantTimeEqual(sha256Hex(r.token), adminTokenSha256)
    ) {
      throw new InvalidBoostError('token', '***', 'is not the admin token');
    }
    admin = true;
  }
  const maxAmount = admin ? BOOST_LIMITS.maxAmount : BOOST_LIMITS.userMaxAmount;
  const maxTtl = admin ? BOOST_LIMITS.maxTtlSeconds : BOOST_LIMITS.userMaxTtlSeconds;
  const hint = admin ? '' : ' without the admin token';
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
  if (typeof r.reason !== 'string' || r.reason.trim() === '' || r.reason.length > 500) {
    throw new InvalidBoostError('reason', r.reason, 'must be a non-empty string of at most 500 characters');
  }
  if (r.actor !== undefined && (typeof r.actor !== 'string' || r.actor.length > 200)) {
    throw new InvalidBoostError('actor', r.actor, 'must be a string of at most 200 characters');
  }
  return {
    amount: r.amount,
    ttlSeconds: r.ttlSeconds,
    reason: r.reason,
    actor: (r.actor as string | undefined) ?? 'unknown',
  };
}
