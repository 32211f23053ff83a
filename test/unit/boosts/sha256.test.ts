import { createHash } from 'node:crypto';
import { sha256Hex } from '../../../src/boosts/sha256';
test.each(['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'héllo wörld ✓ 🚀', 'x'.repeat(1000)])(
  'sha256(%j)',
  (s) => {
    expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
  },
);
