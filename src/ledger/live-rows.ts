import type pg from 'pg';
import { LEARNED_MIN_SAMPLES } from '../execution/learned';
import { RESERVATION_SELECT } from './reservations';
import { byKey, toReservation, type ReservationRow } from './rows';
import { ACTIVE_STATES, type LearnedRunTime, type ReservationRecord } from './types';

/**
 * After this long without a full read, the next read is full again: a bound on how long any drift the change
 * stamps and the deletion counter cannot see (none is known) could last.
 */
export const LIVE_ROWS_FULL_READ_MS = 60_000;

/** What the last {@link LiveRows.read} did. */
export interface LiveRowsRead {
  /** It read every live row (first read, rows deleted since the last, or the periodic full read). */
  full: boolean;
  /** Reservation rows it read (every live one when full, else those written since the previous read). */
  rowsRead: number;
}

/** The live reservations as a snapshot needs them: pending oldest first, active by key. */
export interface LiveReservations {
  /** Pending requests by (requested_at, key); a stage key's learned run time attached where the snapshot's join would. */
  pending: ReservationRecord[];
  /** Granted and running reservations by key. */
  active: ReservationRecord[];
  /** How they were read. */
  read: LiveRowsRead;
}

interface EstimateRow {
  definition_name: string;
  stage_id: string;
  handler: string;
  seconds: number;
  samples: number;
}

interface Baseline {
  /** The pg_snapshot (text) the rows in memory were read at. */
  snapshot: string;
  /** `qm_live_deletions.epoch` then. */
  deletions: string;
  /** When the last full read was (performance.now()). */
  fullAt: number;
}

const LIVE = `state = 'pending' OR state IN ('granted', 'running')`;

/** The instant a read was made at: its transaction's snapshot and the deletion counter. */
const STAMP_SQL = `SELECT pg_current_snapshot()::text AS snapshot, epoch::text AS deletions,
  current_setting('transaction_isolation') AS isolation FROM qm_live_deletions`;

interface StampRow {
  snapshot: string;
  deletions: string;
  isolation: string;
}

/**
 * The stamp of a read, checked: one row, taken in a transaction whose statements share one snapshot (in READ
 * COMMITTED each statement takes its own, and the rows read would not be those the stamp says).
 * @throws Error naming the isolation level otherwise (a caller's mistake, not the data's).
 */
function checkedStamp(result: pg.QueryResult<StampRow>): StampRow {
  const stamp = result.rows[0];
  if (stamp === undefined)
    throw new Error('qm_live_deletions has no row: the ledger schema is damaged (migration 011)');
  if (stamp.isolation !== 'repeatable read' && stamp.isolation !== 'serializable')
    throw new Error(`LiveRows.read needs a REPEATABLE READ transaction, got ${stamp.isolation}`);
  return stamp;
}

/**
 * Whether the snapshot `now` misses something `before` saw: an older transaction of this process's (reads are
 * serialized, not ordered), or another database behind the same URL (restored from a backup, recreated) whose
 * transaction ids restarted below the ones seen. A transaction `before` saw committed is one below its xmax and
 * not in its in-progress list; `now` misses it when its own xmax is not above it or it is in `now`'s list.
 * Snapshots are pg_snapshot text, `xmin:xmax:xip,...`.
 * @throws nothing; an unreadable snapshot counts as missing something.
 */
export function snapshotWentBack(before: string, now: string): boolean {
  const [b, n] = [parseSnapshot(before), parseSnapshot(now)];
  if (b === undefined || n === undefined) return true;
  if (n.xmax < b.xmax) return true;
  return n.inProgress.some((x) => x < b.xmax && !b.inProgress.includes(x));
}

interface ParsedSnapshot {
  xmin: bigint;
  xmax: bigint;
  inProgress: bigint[];
}

const SNAPSHOT_TEXT = /^(\d+):(\d+):((?:\d+(?:,\d+)*)?)$/;

/** A pg_snapshot's text, parsed; undefined when it is not one. */
function parseSnapshot(snapshot: string): ParsedSnapshot | undefined {
  const m = SNAPSHOT_TEXT.exec(snapshot);
  if (m === null) return undefined;
  const [, xmin = '', xmax = '', xip = ''] = m;
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), inProgress: xip === '' ? [] : xip.split(',').map(BigInt) };
}

/** A stamp's xmin as a SQL literal (stamps come from PostgreSQL; 0 reads every stamped row should one not parse). */
function xminOf(snapshot: string): string {
  return String(parseSnapshot(snapshot)?.xmin ?? 0n);
}
const ESTIMATE_COLUMNS = 'definition_name, stage_id, handler, seconds, samples';

const stageKey = (definition: string, stage: string, handler: string): string =>
  JSON.stringify([definition, stage, handler]);

const byRequestedThenKey = (a: ReservationRecord, b: ReservationRecord): number =>
  a.requestedAt.getTime() - b.requestedAt.getTime() || byKey(a, b);

/**
 * One process's copy of the ledger's live reservations (pending, granted, running) and run estimates, kept
 * current by reading only the rows written by transactions its previous read could not see (migration 011
 * stamps each row with its writer's transaction id): a cycle at 10,000 waiting reads the handful of rows that
 * changed, not 10,000. Always read inside the caller's REPEATABLE READ transaction, so what it returns is the
 * ledger as that transaction sees it, exactly as a full read would return it.
 *
 * Deletions leave no row to read: a statement that deletes reservations or estimates (a retention run, an
 * operator's DELETE, a test's TRUNCATE) moves a counter (migration 011), and a read that sees it moved reads
 * everything again; so does {@link LIVE_ROWS_FULL_READ_MS} passing. Reads are serialized: one at a time per
 * process and database.
 */
export class LiveRows {
  private readonly rows = new Map<string, ReservationRecord>();
  private readonly estimates = new Map<string, LearnedRunTime>();
  private baseline: Baseline | undefined;
  private turn: Promise<unknown> = Promise.resolve();

  /**
   * The live reservations as `client`'s transaction sees them (it must be REPEATABLE READ: the reads and the
   * snapshot they are stamped with must be one instant).
   * Reads are serialized; one whose transaction does not see everything the copy's did ({@link snapshotWentBack})
   * reads in full, so what it returns is always what its own transaction sees.
   * @throws the driver's error, or Error when the transaction is not REPEATABLE READ (the copy is dropped: the
   *   next read is full).
   */
  read(client: pg.PoolClient): Promise<LiveReservations> {
    const next = this.turn.then(
      () => this.readNow(client),
      () => this.readNow(client),
    );
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** Forgets everything: the next read is full. */
  reset(): void {
    this.baseline = undefined;
    this.rows.clear();
    this.estimates.clear();
  }

  private async readNow(client: pg.PoolClient): Promise<LiveReservations> {
    const base = this.baseline;
    try {
      if (base !== undefined && performance.now() - base.fullAt < LIVE_ROWS_FULL_READ_MS) {
        const changed = await this.readChanged(client, base);
        if (changed !== undefined) return this.view({ full: false, rowsRead: changed });
      }
      return this.view({ full: true, rowsRead: await this.readAll(client) });
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /**
   * Applies the rows written since `base`; undefined, applying nothing, when rows were deleted since or this
   * transaction does not see all that `base` saw (read all instead).
   */
  private async readChanged(client: pg.PoolClient, base: Baseline): Promise<number | undefined> {
    // Every transaction the previous read could not see has an id >= its snapshot's xmin: an index range scan,
    // then the exact test per row.
    const since = `${client.escapeLiteral(base.snapshot)}::pg_snapshot`;
    const unseen = `changed_xid >= ${xminOf(base.snapshot)}
      AND NOT pg_visible_in_snapshot(changed_xid::text::xid8, ${since})`;
    const [changed, estimates, stamp] = (await client.query(
      [
        `SELECT ${RESERVATION_SELECT} FROM qm_reservations WHERE ${unseen}`,
        `SELECT ${ESTIMATE_COLUMNS} FROM qm_run_estimates WHERE ${unseen}`,
        STAMP_SQL,
      ].join(';\n'),
    )) as unknown as [pg.QueryResult<ReservationRow>, pg.QueryResult<EstimateRow>, pg.QueryResult<StampRow>];
    const now = checkedStamp(stamp);
    if (now.deletions !== base.deletions || snapshotWentBack(base.snapshot, now.snapshot)) return undefined;
    for (const row of changed.rows) {
      if (row.state === 'pending' || ACTIVE_STATES.includes(row.state)) {
        this.rows.set(row.key, Object.freeze(toReservation(row)));
      } else this.rows.delete(row.key);
    }
    this.keepEstimates(estimates.rows);
    this.baseline = { snapshot: now.snapshot, deletions: now.deletions, fullAt: base.fullAt };
    return changed.rows.length;
  }

  private async readAll(client: pg.PoolClient): Promise<number> {
    const [live, estimates, stamp] = (await client.query(
      [
        `SELECT ${RESERVATION_SELECT} FROM qm_reservations WHERE ${LIVE}`,
        `SELECT ${ESTIMATE_COLUMNS} FROM qm_run_estimates`,
        STAMP_SQL,
      ].join(';\n'),
    )) as unknown as [pg.QueryResult<ReservationRow>, pg.QueryResult<EstimateRow>, pg.QueryResult<StampRow>];
    const now = checkedStamp(stamp);
    this.rows.clear();
    this.estimates.clear();
    for (const row of live.rows) this.rows.set(row.key, Object.freeze(toReservation(row)));
    this.keepEstimates(estimates.rows);
    this.baseline = { snapshot: now.snapshot, deletions: now.deletions, fullAt: performance.now() };
    return live.rows.length;
  }

  private keepEstimates(rows: readonly EstimateRow[]): void {
    for (const e of rows) this.estimates.set(stageKey(e.definition_name, e.stage_id, e.handler), e);
  }

  /**
   * Fresh arrays (callers may sort or filter them) of frozen records: a record is the copy's own, shared by every
   * view until its row changes, so a caller that wrote to one would change what the next cycle reads.
   */
  private view(read: LiveRowsRead): LiveReservations {
    const pending: ReservationRecord[] = [];
    const active: ReservationRecord[] = [];
    for (const r of this.rows.values()) {
      if (r.state === 'pending') pending.push(this.withLearned(r));
      else active.push(this.withLearned(r));
    }
    return { pending: pending.sort(byRequestedThenKey), active: active.sort(byKey), read };
  }

  /** The snapshot's learned join: a request with no declared run time and no shard index, of a known stage key. */
  private withLearned(r: ReservationRecord): ReservationRecord {
    if (r.expectedSeconds !== null || r.shardIndex !== null) return r;
    if (r.definitionName === null || r.handler === null) return r;
    const e = this.estimates.get(stageKey(r.definitionName, r.stageId, r.handler));
    if (e === undefined || e.samples < LEARNED_MIN_SAMPLES) return r;
    return { ...r, learned: { seconds: e.seconds, samples: e.samples } };
  }
}
