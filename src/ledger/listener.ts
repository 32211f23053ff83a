import type pg from 'pg';
import { decisionChannel } from './channels';

/**
 * One process's ear on the ledger's decision channel (PostgreSQL `LISTEN`): many waiting requesters share
 * one dedicated connection, and each is woken when its key is announced (granted, told to shard, expired).
 * Notifications are a latency optimisation only: waiters also re-check on a timer, so a dropped connection
 * (re-opened on the next wait) or a missed notification costs at most one re-check period.
 */
/** A requester's subscription to its key: notifications are latched, so none is lost between two waits. */
export interface DecisionSubscription {
  /**
   * Resolves at once when the key was announced since the previous call, else when it is announced, after
   * `timeoutMs`, or when `signal` aborts; never rejects.
   */
  next(timeoutMs: number, signal?: AbortSignal): Promise<'notified' | 'timeout' | 'aborted'>;
  /** Stops listening for this key. */
  close(): void;
}

export class DecisionListener {
  private readonly waiters = new Map<string, Set<() => void>>();
  private connecting: Promise<pg.PoolClient> | undefined;

  /**
   * @param pool - the ledger's pool (one connection is taken for as long as anyone listens)
   * @param schema - the ledger's schema (the channel is per schema)
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  /**
   * Subscribes to `key` (subscribe before reading the request's state, so an announcement in between is
   * kept). Opens the shared connection if needed; a listener that cannot connect still times out.
   */
  async subscribe(key: string): Promise<DecisionSubscription> {
    await this.ensureListening().catch(() => undefined);
    let latched = false;
    let wake: (() => void) | undefined;
    const onNotify = (): void => {
      latched = true;
      wake?.();
    };
    const set = this.waiters.get(key) ?? new Set<() => void>();
    this.waiters.set(key, set);
    set.add(onNotify);
    return {
      next: (timeoutMs, signal) => {
        if (latched) {
          latched = false;
          return Promise.resolve('notified');
        }
        if (signal?.aborted) return Promise.resolve('aborted');
        return new Promise((resolve) => {
          const done = (outcome: 'notified' | 'timeout' | 'aborted'): void => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            wake = undefined;
            if (outcome === 'notified') latched = false;
            resolve(outcome);
          };
          const onAbort = (): void => done('aborted');
          const timer = setTimeout(() => done('timeout'), timeoutMs);
          wake = () => done('notified');
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      },
      close: () => {
        set.delete(onNotify);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
      },
    };
  }

  /** Number of keys being waited for (for tests and metrics). */
  get waiting(): number {
    return this.waiters.size;
  }
  /** Stops listening and releases the connection; pending waits run to their timeouts. */
  async close(): Promise<void> {
    const c = this.connecting;
    this.connecting = undefined;
    const client = await c?.catch(() => undefined);
    client?.release(true);
  }

  private ensureListening(): Promise<pg.PoolClient> {
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    const drop = (): void => {
      // The connection broke: forget it; the next wait opens another (waiters still time out meanwhile).
      if (this.connecting !== undefined) this.connecting = undefined;
      client.removeListener('notification', onNotification);
      client.release(true);
    };
    const onNotification = (msg: pg.Notification): void => {
      const key = msg.payload;
      if (key === undefined) return;
      for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
    };
    client.on('notification', onNotification);
    client.once('error', drop);
    try {
      await client.query(`LISTEN "${decisionChannel(this.schema)}"`);
    } catch (err) {
      client.removeListener('error', drop);
      drop();
      throw err;
    }
    return client;
  }
}
