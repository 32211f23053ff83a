import { InvalidLedgerArgumentError, InvalidQuantityError } from './errors';
import type { ResourceVector } from './types';

/** Slack for float sums (`0.1 + 0.2`): a grant fits when `granted + asked ≤ capacity + EPSILON`. */
export const EPSILON = 1e-9;

/**
 * Checks that `value` is a non-negative finite quantity.
 * @throws InvalidQuantityError naming `path` and the value otherwise.
 */
export function checkQuantity(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new InvalidQuantityError(path, value);
  return value;
}

/**
 * Checks a resource vector: an object of non-empty names to non-negative finite numbers. Returns a copy.
 * @throws InvalidQuantityError for a bad quantity (`path.name`); InvalidLedgerArgumentError for a non-object
 *   or an empty name.
 */
export function checkVector(path: string, vector: unknown): ResourceVector {
  if (typeof vector !== 'object' || vector === null || Array.isArray(vector)) {
    throw new InvalidLedgerArgumentError(path, vector, 'an object of resource name to quantity');
  }
  const out: ResourceVector = {};
  for (const [name, value] of Object.entries(vector as Record<string, unknown>)) {
    if (name.trim() === '')
      throw new InvalidLedgerArgumentError(`${path}`, name, 'a non-empty resource name');
    out[name] = checkQuantity(`${path}.${name}`, value);
  }
  return out;
}

/**
 * Checks that a string argument is non-empty.
 * @throws InvalidLedgerArgumentError naming `path` otherwise.
 */
export function checkId(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidLedgerArgumentError(path, value, 'a non-empty string');
  return value;
}

/** `a + b` per resource (missing counts as 0). */
export function addVectors(a: ResourceVector, b: ResourceVector): ResourceVector {
  const out: ResourceVector = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** `a − b` per resource over the names of `a` (missing in `b` counts as 0). */
export function subtractVectors(a: ResourceVector, b: ResourceVector): ResourceVector {
  const out: ResourceVector = {};
  for (const [k, v] of Object.entries(a)) out[k] = v - (b[k] ?? 0);
  return out;
}

/** Renders `cpu=4 memoryMb=2048` (names sorted); `-` for an empty vector. */
export function formatVector(vector: ResourceVector): string {
  const parts = Object.keys(vector)
    .sort()
    .map((k) => `${k}=${Number((vector[k] ?? 0).toFixed(3))}`);
  return parts.length === 0 ? '-' : parts.join(' ');
}
