/**
 * Signing and verifying boost capabilities (Node only: `node:crypto`; never imported by workflows). The
 * secret is `QM_ADMIN_TOKEN`: the `qm boost --admin` client signs with it, the `verifyBoostCapability` local
 * activity verifies with it; neither logs it, and it never travels.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type BoostCapability,
  type BoostCapabilityFields,
  capabilityMessage,
  MAX_CAPABILITY_LIFETIME_MS,
} from './capability';

/** HMAC-SHA256 (hex) of the capability's message under `secret`. */
function mac(secret: string, fields: BoostCapabilityFields): string {
  return createHmac('sha256', secret).update(capabilityMessage(fields), 'utf8').digest('hex');
}

/**
 * Issues a capability for one boost of `workflowId`, valid for `lifetimeMs` (default 5 minutes, at most 15)
 * with a fresh random nonce.
 * @throws Error for an empty secret.
 */
export function signBoostCapability(
  secret: string,
  boost: { workflowId: string; amount: number; ttlSeconds: number; reason: string },
  now: Date = new Date(),
  lifetimeMs = 5 * 60_000,
): BoostCapability {
  if (secret === '') throw new Error('the admin secret is empty');
  const fields: BoostCapabilityFields = {
    ...boost,
    expiresAt: new Date(now.getTime() + Math.min(lifetimeMs, MAX_CAPABILITY_LIFETIME_MS)).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
  return { ...fields, mac: mac(secret, fields) };
}

/** True when `capability.mac` is the MAC of its fields under `secret` (constant-time). Never throws. */
export function verifyBoostCapability(secret: string, capability: BoostCapability): boolean {
  try {
    const { mac: given, ...fields } = capability;
    const expected = Buffer.from(mac(secret, fields), 'hex');
    const actual = Buffer.from(String(given), 'hex');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}
