import { openDatabase, type Database, type OpenDatabaseOptions } from './db';

/** A database opened on first use and shared afterwards (activities are built before anything connects). */
export interface LazyDatabase {
  /**
   * The open database; the first call connects and migrates. A failed attempt is not cached: the next
   * call tries again (an activity retry after the database came back).
   * @throws DatabaseUnavailableError while the server is unreachable.
   */
  get(): Promise<Database>;
  /** Closes the pool if it was opened. */
  close(): Promise<void>;
}

/** Wraps {@link openDatabase} in a {@link LazyDatabase}. */
export function lazyDatabase(options: OpenDatabaseOptions): LazyDatabase {
  let opening: Promise<Database> | undefined;
  return {
    get() {
      opening ??= openDatabase(options).catch((err: unknown) => {
        opening = undefined;
        throw err;
      });
      return opening;
    },
    async close() {
      const pending = opening;
      opening = undefined;
      if (pending) await (await pending.catch(() => undefined))?.close();
    },
  };
}
