/**
 * Coalesces the waiters' renewals of their pending requests into one statement ({@link renewPendingMany}).
 * A waiter woken by a notification asks urgently (flushed on the next turn of the event loop, so every
 * waiter one commit woke shares one query); a periodic re-check may wait up to `maxDelayMs` for others to
 * join (leases are many times longer). One per database and lease.
 */
import type { Database } from './db';
import { renewPendingMany, type WaiterView } from './admission';

interface Waiting {
  resolve: (r: WaiterView | undefined) => void;
  reject: (err: unknown) => void;
}

/** A batch of pending-lease renewals; see the module comment. */
export class PendingRenewals {
  private readonly waiting = new Map<string, Waiting[]>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /**
   * @param db - the ledger
   * @param leaseMs - the lease each renewal extends to, ms
   * @param maxDelayMs - how long a non-urgent renewal may wait for others, ms
   */
  constructor(
    private readonly db: Database,
    private readonly leaseMs: number,
    private readonly maxDelayMs: number,
  ) {}

  /**
   * Renews `key`'s pending lease or takes its grant up (see {@link renewPendingMany}) and returns what it
   * found, `undefined` for a key never requested.
   * @param urgent - flush on the next turn of the event loop instead of within `maxDelayMs`
   * @throws what {@link renewPendingMany} throws (every caller of the failed batch gets the error).
   */
  renew(key: string, urgent: boolean): Promise<WaiterView | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(key);
      if (list === undefined) this.waiting.set(key, [{ resolve, reject }]);
      else list.push({ resolve, reject });
      if (urgent) {
        if (this.timer !== undefined) {
          clearTimeout(this.timer);
          this.timer = undefined;
        }
        this.immediate ??= setImmediate(() => this.flush());
      } else if (this.timer === undefined && this.immediate === undefined) {
        this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      }
    });
  }

  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const batch = new Map(this.waiting);
    this.waiting.clear();
    if (batch.size === 0) return;
    // One statement at a time: a slow database gets one outstanding batch, not one per waiter.
    this.flushing = this.flushing.then(async () => {
      try {
        const found = await renewPendingMany(this.db, [...batch.keys()], this.leaseMs);
        for (const [key, list] of batch) for (const w of list) w.resolve(found.get(key));
      } catch (err) {
        for (const list of batch.values()) for (const w of list) w.reject(err);
      }
    });
  }
}
