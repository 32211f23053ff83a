/**
 * Where `qm report` reads executions from the ledger: one function, {@link loadExecutions}. Today it is
 * {@link listEndedReservations} (records derived from the reservations that ended); the ledger's execution
 * table (execution records, issue 17 part 1) provides `listExecutions` with this same signature, and
 * `loadExecutions` then points at it.
 */
import type { Database } from '../ledger/db';
import { listEndedReservations } from '../ledger/reservation-history';
import type { ExecutionRecord } from './record';

/** Which executions to load. */
export interface ExecutionQuery {
  /** Only executions that ended at or after this. @default all */
  readonly since?: Date;
  /** Only executions of pipelines of this definition name. @default all */
  readonly pipeline?: string;
  /** At most this many (the most recent). @default the source's own (10000 for reservations) */
  readonly limit?: number;
}

/** A source of execution records: oldest first, filtered by the query. */
export type ExecutionSource = (db: Database, query: ExecutionQuery) => Promise<ExecutionRecord[]>;

/**
 * The executions `qm report` draws.
 * @throws DatabaseUnavailableError when the database cannot be reached.
 */
export const loadExecutions: ExecutionSource = listEndedReservations;
