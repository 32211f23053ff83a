/**
 * Admin boosts without secrets in history. An admin (holding `QM_ADMIN_TOKEN`) signs a *capability* — an
 * HMAC-SHA256 over (workflow id, amount, ttl, reason, expiry, nonce) — and sends that instead of the secret;
 * the workflow checks the fields here (pure, in its update validator) and has the MAC verified by the
 * `verifyBoostCapability` local activity on a worker that holds the secret (its marker records only
 * `{ valid }`). A captured capability cannot boost another pipeline (the workflow id is signed), a larger
 * amount or a longer ttl (signed), after its expiry (signed, at most 15 minutes ahead), or twice (the nonce is
 * remembered until it expires). Workflow-safe: no I/O, no crypto here (signing and verifying live in
 * `capability-mac.ts`, Node only).
 */
import { InvalidBoostError } from './boost-book';

/** The capability format's version (part of the signed message). */
export const CAPABILITY_VERSION = 'qm-boost-capability-v1';

/** Longest a capability may live, ms: 15 minutes (a captured one is useless soon after). */
export const MAX_CAPABILITY_LIFETIME_MS = 15 * 60_000;

/** What is signed. */
export interface BoostCapabilityFields {
  /** The pipeline it may boost. */
  workflowId: string;
  /** The amount it allows (exactly). */
  amount: number;
  /** The ttl it allows (exactly), s. */
  ttlSeconds: number;
  /** The reason it was issued for (exactly). */
  reason: string;
  /** ISO-8601 time after which it is refused. */
  expiresAt: string;
  /** A random, single-use value (16–128 characters). */
  nonce: string;
}

/** A signed capability, as the `boost` update or signal carries it in `capability`. */
export interface BoostCapability extends BoostCapabilityFields {
  /** HMAC-SHA256 (hex) of {@link capabilityMessage} under the admin secret. */
  mac: string;
}

/** The exact message the MAC covers: a JSON array of the version and every field, in a fixed order. */
export function capabilityMessage(c: BoostCapabilityFields): string {
  return JSON.stringify([
    CAPABILITY_VERSION,
    c.workflowId,
    c.amount,
    c.ttlSeconds,
    c.reason,
    c.expiresAt,
    c.nonce,
  ]);
}

/** Nonces a workflow has accepted, each kept until its capability expires (so replays are refused). */
export class NonceBook {
  private readonly used = new Map<string, number>();

  /** True when `nonce` was already used (and its capability has not expired). */
  has(nonce: string, now: Date): boolean {
    this.prune(now);
    return this.used.has(nonce);
  }

  /** The nonces still remembered at `now` (nonce → expiry ms), to carry across a continue-as-new. */
  carry(now: Date): Record<string, number> {
    this.prune(now);
    return Object.fromEntries(this.used);
  }

  /** Restores what {@link carry} returned in the previous run. */
  restore(carried: Readonly<Record<string, number>>): void {
    for (const [nonce, until] of Object.entries(carried)) this.used.set(nonce, until);
  }

  /** Remembers `nonce` until `expiresAtMs`. */
  use(nonce: string, expiresAtMs: number, now: Date): void {
    this.prune(now);
    this.used.set(nonce, expiresAtMs);
  }

  private prune(now: Date): void {
    for (const [nonce, until] of this.used) if (until <= now.getTime()) this.used.delete(nonce);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a capability's shape and that it matches this boost and this workflow, now: not expired, not more than
 * 15 minutes ahead, nonce unused. The MAC itself is verified by the `verifyBoostCapability` local activity.
 * @returns the capability, typed.
 * @throws InvalidBoostError naming `capability` (never echoing the MAC).
 */
export function checkCapability(
  value: unknown,
  boost: { amount: number; ttlSeconds: number; reason: string },
  context: { workflowId: string; now: Date; nonces?: NonceBook },
): BoostCapability {
  const fail = (reason: string): never => {
    throw new InvalidBoostError('capability', '(a capability)', reason);
  };
  if (!isRecord(value))
    return fail('must be an object { workflowId, amount, ttlSeconds, reason, expiresAt, nonce, mac }');
  for (const key of Object.keys(value))
    if (!['workflowId', 'amount', 'ttlSeconds', 'reason', 'expiresAt', 'nonce', 'mac'].includes(key))
      fail(`has an unknown field ${JSON.stringify(key.slice(0, 40))}`);
  const { workflowId, amount, ttlSeconds, reason, expiresAt, nonce, mac } = value;
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) fail('has no valid mac (64 hex characters)');
  if (workflowId !== context.workflowId) fail('was issued for another pipeline');
  if (amount !== boost.amount || ttlSeconds !== boost.ttlSeconds || reason !== boost.reason)
    fail('does not match this boost (amount, ttlSeconds and reason are signed)');
  const expires = typeof expiresAt === 'string' ? Date.parse(expiresAt) : NaN;
  if (!Number.isFinite(expires)) fail('has no valid expiresAt (ISO-8601)');
  if (expires <= context.now.getTime()) fail('has expired');
  if (expires > context.now.getTime() + MAX_CAPABILITY_LIFETIME_MS + 60_000)
    fail('expires more than 15 minutes ahead');
  if (typeof nonce !== 'string' || nonce.length < 16 || nonce.length > 128) fail('has no valid nonce');
  if (context.nonces?.has(nonce as string, context.now)) fail('was already used (its nonce is single-use)');
  return value as unknown as BoostCapability;
}
