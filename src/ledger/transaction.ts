import type pg from 'pg';
import { inTransaction, type Database } from './db';
import { LedgerContentionError } from './errors';

/** SQLSTATEs after which the whole transaction may simply be run again: serialization failure, deadlock. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** True for a serialization failure (40001) or a detected deadlock (40P01). */
export function isSerializationFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/** Options for {@link withRetries}. */
export interface RetryOptions {
  /** Attempts before giving up. @default 50 */
  maxAttempts?: number;
  /** Isolation level of each attempt. @default 'READ COMMITTED' */
  isolation?: 'READ COMMITTED' | 'SERIALIZABLE';
}

/** Counts retries across the process (the benchmark reports them). */
export const retryCounter = { retries: 0 };

/**
 * Runs `fn` in one transaction (see `inTransaction`), re-running it from the start after a serialization
 * failure or deadlock, with a short random backoff (0–2^attempt ms, at most 20 ms). Each attempt rolls
 * back fully, so a retried attempt never sees half of an earlier one.
 * @throws LedgerContentionError (retryable) after `maxAttempts` conflicts; DatabaseUnavailableError when
 *   the database is unreachable; otherwise whatever `fn` throws.
 */
export async function withRetries<T>(
  db: Database,
  operation: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, operation, fn, options.isolation ?? 'READ COMMITTED');
    } catch (err) {
      if (!isSerializationFailure(err)) throw err;
      if (attempt >= maxAttempts) throw new LedgerContentionError(operation, attempt);
      retryCounter.retries++;
      const backoffMs = Math.random() * Math.min(20, 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  }
}

/**
 * A named (prepared) query: pg prepares it once per connection and reuses the plan, which saves parse and
 * plan time on the hot paths (grant, release). Safe because every connection of a Database keeps one
 * search_path for its life.
 */
export function named(
  name: string,
  text: string,
  values: unknown[],
): { name: string; text: string; values: unknown[] } {
  return { name, text, values };
}
