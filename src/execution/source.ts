/**
 * Where `qm report` reads executions from the ledger: one function, {@link loadExecutions}, over the
 * ledger's execution records (`listExecutions`, one record per stage attempt, written when it ends).
 */
import type { Database } from '../ledger/db';
import { listExecutions } from '../ledger/executions';
import type { ExecutionRecord } from './record';

/** Which executions to load. */
export interface ExecutionQuery {
  /** Only executions that ended at or after this. @default all */
  readonly since?: Date;
  /** Only executions of pipelines of this definition name. @default all */
  readonly pipeline?: string;
  /** At most this many (the most recent). @default 10000 */
  readonly limit?: number;
}

/** A source of execution records: oldest first, filtered by the query. */
export type ExecutionSource = (db: Database, query: ExecutionQuery) => Promise<ExecutionRecord[]>;

/**
 * The executions `qm report` draws: the most recent `limit` records that ended since `since`, oldest first.
 * @throws InvalidLedgerArgumentError for a bad query (see `listExecutions`); DatabaseUnavailableError when
 *   the database cannot be reached.
 */
export const loadExecutions: ExecutionSource = async (db, query) =>
  (
    await listExecutions(db, {
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.pipeline === undefined ? {} : { pipeline: query.pipeline }),
      limit: query.limit ?? 10_000,
    })
  ).reverse();
