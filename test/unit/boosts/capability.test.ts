import { checkBoostRequest } from '../../../src/boosts/boost-request';
import { NonceBook } from '../../../src/boosts/capability';
import { signBoostCapability, verifyBoostCapability } from '../../../src/boosts/capability-mac';

const SECRET = 'admin-secret-0123456789';
const now = new Date('2026-01-01T00:00:00Z');
const boost = { workflowId: 'etl-1', amount: 8, ttlSeconds: 7200, reason: 'release day' };
const cap = signBoostCapability(SECRET, boost, now);
const context = (over: Partial<{ workflowId: string; now: Date; nonces: NonceBook }> = {}) => ({
  workflowId: 'etl-1',
  now,
  ...over,
});
const request = (over: Record<string, unknown> = {}) => ({
  amount: 8,
  ttlSeconds: 7200,
  reason: 'release day',
  capability: cap,
  ...over,
});

function refusal(input: unknown, ctx = context()): string {
  try {
    checkBoostRequest(input, ctx);
  } catch (err) {
    expect((err as Error).name).toBe('InvalidBoostError');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

test('a capability lifts the limits, and its MAC verifies with the secret only', () => {
  expect(checkBoostRequest(request(), context())).toMatchObject({ amount: 8, capability: cap });
  expect(verifyBoostCapability(SECRET, cap)).toBe(true);
  expect(verifyBoostCapability('another-secret', cap)).toBe(false);
  expect(verifyBoostCapability(SECRET, { ...cap, amount: 10 })).toBe(false);
  expect(verifyBoostCapability(SECRET, { ...cap, mac: 'zz' })).toBe(false);
  expect(JSON.stringify(cap)).not.toContain(SECRET);
});

test.each<[string, unknown, ReturnType<typeof context>, string]>([
  ['another pipeline', request(), context({ workflowId: 'etl-2' }), 'another pipeline'],
  ['a larger amount', request({ amount: 10 }), context(), 'does not match this boost'],
  ['a longer ttl', request({ ttlSeconds: 86_400 }), context(), 'does not match this boost'],
  ['after its expiry', request(), context({ now: new Date(now.getTime() + 6 * 60_000) }), 'has expired'],
  [
    'a forged far expiry',
    request({ capability: { ...cap, expiresAt: '2027-01-01T00:00:00Z' } }),
    context(),
    '15 minutes ahead',
  ],
  [
    'the raw admin token (stored in history before)',
    { amount: 1, ttlSeconds: 60, reason: 'x', token: SECRET },
    context(),
    'no longer accepted',
  ],
])('refuses a capability for %s', (_what, input, ctx, text) => {
  const message = refusal(input, ctx);
  expect(message).toContain(text);
  expect(message).not.toContain(SECRET);
});

test('a nonce is single-use until its capability expires', () => {
  const nonces = new NonceBook();
  expect(() => checkBoostRequest(request(), context({ nonces }))).not.toThrow();
  nonces.use(cap.nonce, Date.parse(cap.expiresAt), now);
  expect(refusal(request(), context({ nonces }))).toContain('already used');
  // Once expired it is forgotten (and the capability is refused for its expiry anyway).
  expect(nonces.has(cap.nonce, new Date(Date.parse(cap.expiresAt) + 1))).toBe(false);
});
