/**
 * Execution data in the ledger (migration 008): one `qm_executions` row per ended stage attempt, written by
 * the statement that ends its reservation ({@link recordingEnded}); learned run times per stage key
 * (`qm_run_estimates`), refreshed by the release that completes a run; the accuracy of start and run-time
 * estimates (`qm_estimate_accuracy`); and the reads `qm history`, `qm estimates` and `qm report` use.
 */
import type { Database } from './db';
import { InvalidLedgerArgumentError, translateDbError } from './errors';
import type { ResourceVector } from './types';
import { EXECUTION_OUTCOMES, type ExecutionOutcome, type ExecutionRecord } from '../execution/record';
import {
  LEARNED_MIN_SAMPLES,
  LEARNED_QUANTILE,
  LEARNED_REFRESH_MS,
  LEARNED_WINDOW,
  type ExpectedSource,
} from '../execution/learned';

/** How long execution records are kept by default, days. */
export const DEFAULT_EXECUTION_RETENTION_DAYS = 30;

/** Rows one {@link pruneExecutions} call deletes at most. */
export const PRUNE_BATCH_ROWS = 1000;

/** Rows {@link listExecutions} returns by default, and at most. */
export const DEFAULT_LIST_LIMIT = 1000;
/** The most rows {@link listExecutions} returns. */
export const MAX_LIST_LIMIT = 100_000;

/**
 * Wraps a statement that ends reservations so that the same statement records them. `ended` is the body of
 * a data-modifying CTE (an `UPDATE qm_reservations … RETURNING *, <outcome> AS outcome`) whose rows carry
 * every reservation column plus `outcome` (an {@link ExecutionOutcome}, or NULL for a reservation that is no
 * attempt of its own — a request withdrawn to be split into shards). The result:
 *
 * 1. `ended`: the caller's update;
 * 2. `recorded`: one `qm_executions` row per attempt (the key without its `~n` renewal suffix): a renewal
 *    of an attempt whose earlier request ended before it ran replaces that row, keeping the earliest
 *    request time and the last start estimate; the run time predicted for it (declared, else learned) is
 *    stored with it;
 * 3. `learned`: for a completed, unsharded run of a known stage key, that key's learned run time from its
 *    last {@link LEARNED_WINDOW} completed runs (this one included), through an index: bounded whatever the
 *    history; once the window is full, at most once per {@link LEARNED_REFRESH_MS} of completions per key (a
 *    burst of one stage's completions upserted the same estimate row each, one after the other under its
 *    row lock, for an estimate that moves by one sample in fifty);
 *
 * then `select` (the caller's final SELECT over `ended`). One statement, one round trip; nothing to lose
 * between ending and recording.
 */
export function recordingEnded(ended: string, select: string): string {
  return `WITH ended AS (${ended}),
  recorded AS (
    INSERT INTO qm_executions AS x
           (attempt_key, reservation_key, workflow_id, run_id, definition_name, definition_version, stage_id,
            shard_index, handler, attempt, priority, importance, desired, minimum, granted, reduced, shrinks,
            node_id, expected_seconds, predicted_seconds, predicted_source, requested_at, granted_at, started_at,
            ended_at, estimated_start_at, outcome, run_seconds, cpu_rate)
    SELECT DISTINCT ON (attempt_key) * FROM (
      SELECT regexp_replace(e.key, '~[0-9]+$', '') AS attempt_key, e.key, e.workflow_id, e.run_id,
             e.definition_name, e.definition_version, e.stage_id, e.shard_index, e.handler, e.attempt,
             e.priority, e.importance, e.desired, e.minimum, e.granted,
             e.granted IS NOT NULL AND EXISTS (
               SELECT 1 FROM jsonb_each_text(e.desired) d
                WHERE coalesce((e.granted ->> d.key)::double precision, 0) < d.value::double precision - 1e-9)
               AS reduced,
             e.shrinks, e.node_id, e.expected_seconds,
             coalesce(e.expected_seconds, est.seconds) AS predicted_seconds,
             CASE WHEN e.expected_seconds IS NOT NULL THEN 'declared'
                  WHEN est.seconds IS NOT NULL THEN 'learned' END AS predicted_source,
             e.requested_at, e.granted_at, e.started_at, e.ended_at, e.estimated_start_at, e.outcome,
             extract(epoch FROM e.ended_at - e.started_at)::double precision AS run_seconds,
             qm_cpu_rate(e.granted, e.desired) AS cpu_rate
        FROM ended e
        LEFT JOIN qm_run_estimates est
          ON e.shard_index IS NULL AND est.definition_name = e.definition_name AND est.stage_id = e.stage_id
         AND est.handler = e.handler AND est.samples >= ${LEARNED_MIN_SAMPLES}
       WHERE e.outcome IS NOT NULL) v
     ORDER BY attempt_key, ended_at DESC, key DESC
    ON CONFLICT (attempt_key) DO UPDATE SET
           reservation_key = excluded.reservation_key, run_id = excluded.run_id,
           definition_name = excluded.definition_name, definition_version = excluded.definition_version,
           handler = excluded.handler, priority = excluded.priority, importance = excluded.importance,
           desired = excluded.desired, minimum = excluded.minimum, granted = excluded.granted,
           reduced = excluded.reduced, shrinks = excluded.shrinks, node_id = excluded.node_id,
           expected_seconds = excluded.expected_seconds, predicted_seconds = excluded.predicted_seconds,
           predicted_source = excluded.predicted_source,
           requested_at = least(x.requested_at, excluded.requested_at), granted_at = excluded.granted_at,
           started_at = excluded.started_at, ended_at = excluded.ended_at,
           estimated_start_at = coalesce(excluded.estimated_start_at, x.estimated_start_at),
           outcome = excluded.outcome, run_seconds = excluded.run_seconds, cpu_rate = excluded.cpu_rate
     WHERE x.ended_at <= excluded.ended_at
    RETURNING x.id, x.definition_name, x.stage_id, x.handler, x.shard_index, x.outcome, x.normalised_seconds,
              x.ended_at),
  learned AS (
    INSERT INTO qm_run_estimates AS l (definition_name, stage_id, handler, seconds, samples, updated_at)
    SELECT r.definition_name, r.stage_id, r.handler,
           percentile_cont(${LEARNED_QUANTILE}) WITHIN GROUP (ORDER BY s.seconds), count(*), max(r.ended_at)
      FROM recorded r
      CROSS JOIN LATERAL (
        SELECT r.normalised_seconds AS seconds
        UNION ALL
        (SELECT h.normalised_seconds FROM qm_executions h
          WHERE h.definition_name = r.definition_name AND h.stage_id = r.stage_id AND h.handler = r.handler
            AND h.outcome = 'completed' AND h.shard_index IS NULL AND h.normalised_seconds IS NOT NULL
            AND h.id <> r.id
          ORDER BY h.ended_at DESC LIMIT ${LEARNED_WINDOW - 1})) s
     WHERE r.outcome = 'completed' AND r.shard_index IS NULL AND r.normalised_seconds IS NOT NULL
       AND r.definition_name IS NOT NULL AND r.handler IS NOT NULL
       AND NOT EXISTS (
             SELECT 1 FROM qm_run_estimates cur
              WHERE cur.definition_name = r.definition_name AND cur.stage_id = r.stage_id
                AND cur.handler = r.handler AND cur.samples >= ${LEARNED_WINDOW}
                AND cur.updated_at > r.ended_at - interval '${LEARNED_REFRESH_MS} milliseconds')
     GROUP BY r.definition_name, r.stage_id, r.handler
    ON CONFLICT (definition_name, stage_id, handler) DO UPDATE
       SET seconds = excluded.seconds, samples = excluded.samples, updated_at = excluded.updated_at)
  ${select}`;
}

/** Options of {@link listExecutions}. */
export interface ListExecutionsOptions {
  /** Only attempts that ended at or after this time. @default no lower bound */
  since?: Date;
  /** Only attempts that ended before this time. @default no upper bound */
  until?: Date;
  /** Only attempts of pipelines with this definition name. @default every pipeline */
  pipeline?: string;
  /** At most this many records (the newest). Integer 1–{@link MAX_LIST_LIMIT}. @default DEFAULT_LIST_LIMIT */
  limit?: number;
}

interface ExecutionRow {
  workflow_id: string;
  run_id: string | null;
  definition_name: string | null;
  definition_version: number | null;
  stage_id: string;
  shard_index: number | null;
  handler: string | null;
  attempt: number;
  priority: number;
  importance: number;
  desired: ResourceVector;
  minimum: ResourceVector;
  granted: ResourceVector | null;
  reduced: boolean;
  shrinks: number;
  node_id: string | null;
  expected_seconds: number | null;
  predicted_seconds: number | null;
  predicted_source: string | null;
  requested_at: Date;
  granted_at: Date | null;
  started_at: Date | null;
  ended_at: Date;
  estimated_start_at: Date | null;
  outcome: string;
}

function toExecution(row: ExecutionRow): ExecutionRecord {
  return {
    workflowId: row.workflow_id,
    runId: row.run_id,
    // A request made straight through the ledger API (no pipeline) names no definition or handler.
    definitionName: row.definition_name ?? '',
    definitionVersion: row.definition_version,
    stageId: row.stage_id,
    shardIndex: row.shard_index,
    handler: row.handler ?? '',
    attempt: row.attempt,
    priority: row.priority,
    importance: row.importance,
    desired: row.desired,
    minimum: row.minimum,
    granted: row.granted,
    reduced: row.reduced,
    shrinks: row.shrinks,
    nodeId: row.node_id,
    expectedSeconds: row.expected_seconds,
    predictedSeconds: row.predicted_seconds,
    predictedSource:
      row.predicted_source === 'declared' || row.predicted_source === 'learned' ? row.predicted_source : null,
    requestedAt: row.requested_at,
    grantedAt: row.granted_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    estimatedStartAt: row.estimated_start_at,
    outcome: (EXECUTION_OUTCOMES as readonly string[]).includes(row.outcome)
      ? (row.outcome as ExecutionOutcome)
      : 'failed',
  };
}

function checkDate(path: string, at: unknown): Date | null {
  if (at === undefined) return null;
  if (!(at instanceof Date) || !Number.isFinite(at.getTime()))
    throw new InvalidLedgerArgumentError(path, at, 'a valid Date');
  return at;
}

/**
 * The recorded attempts, newest first (by end time): what `qm history` lists and `qm report` draws.
 * @example
 * const lastHour = await listExecutions(db, { since: new Date(Date.now() - 3_600_000), pipeline: 'nightly' });
 * @throws InvalidLedgerArgumentError for an invalid `since`/`until`, an empty `pipeline` or a `limit`
 *   outside 1–{@link MAX_LIST_LIMIT}; DatabaseUnavailableError.
 */
export async function listExecutions(
  db: Database,
  options: ListExecutionsOptions = {},
): Promise<ExecutionRecord[]> {
  const since = checkDate('since', options.since);
  const until = checkDate('until', options.until);
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new InvalidLedgerArgumentError('limit', limit, `an integer from 1 to ${MAX_LIST_LIMIT}`);
  if (options.pipeline !== undefined && (typeof options.pipeline !== 'string' || options.pipeline === ''))
    throw new InvalidLedgerArgumentError('pipeline', options.pipeline, 'a non-empty definition name');
  try {
    const { rows } = await db.pool.query<ExecutionRow>(
      `SELECT workflow_id, run_id, definition_name, definition_version, stage_id, shard_index, handler, attempt,
              priority, importance, desired, minimum, granted, reduced, shrinks, node_id, expected_seconds,
              predicted_seconds, predicted_source, requested_at, granted_at, started_at, ended_at, estimated_start_at, outcome
         FROM qm_executions
        WHERE ($1::timestamptz IS NULL OR ended_at >= $1)
          AND ($2::timestamptz IS NULL OR ended_at < $2)
          AND ($3::text IS NULL OR definition_name = $3)
        ORDER BY ended_at DESC, id DESC
        LIMIT $4`,
      [since, until, options.pipeline ?? null, limit],
    );
    return rows.map(toExecution);
  } catch (err) {
    throw translateDbError(err, 'list executions');
  }
}

/** Options of {@link pruneExecutions}. */
export interface PruneExecutionsOptions {
  /** Records that ended longer ago than this are deleted, days (finite, > 0). @default 30 */
  retentionDays?: number;
  /** Rows deleted at most by this call (integer ≥ 1). @default PRUNE_BATCH_ROWS */
  batchRows?: number;
  /** The time retention counts back from. @default the database's now */
  now?: Date;
}

/**
 * Deletes one bounded batch of records older than the retention (oldest first, through the `ended_at`
 * index), so pruning never holds locks for long whatever the backlog: call it again while it returns
 * `batchRows`. A learned run time not refreshed within the retention (its stage key has completed no run
 * since) is deleted too, in a batch of the same size: an estimate outlives no history it came from.
 * @returns the number of execution records deleted.
 * @throws InvalidLedgerArgumentError for a bad `retentionDays`, `batchRows` or `now`; DatabaseUnavailableError.
 */
export async function pruneExecutions(db: Database, options: PruneExecutionsOptions = {}): Promise<number> {
  const days = options.retentionDays ?? DEFAULT_EXECUTION_RETENTION_DAYS;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0)
    throw new InvalidLedgerArgumentError('retentionDays', days, 'a finite number > 0');
  const batch = options.batchRows ?? PRUNE_BATCH_ROWS;
  if (!Number.isInteger(batch) || batch < 1)
    throw new InvalidLedgerArgumentError('batchRows', batch, 'an integer >= 1');
  const now = checkDate('now', options.now);
  try {
    const { rowCount } = await db.pool.query(
      `DELETE FROM qm_executions WHERE id IN (
         SELECT id FROM qm_executions
          WHERE ended_at < coalesce($1::timestamptz, now()) - $2 * interval '1 day'
          ORDER BY ended_at LIMIT $3)`,
      [now, days, batch],
    );
    await db.pool.query(
      `DELETE FROM qm_run_estimates WHERE (definition_name, stage_id, handler) IN (
         SELECT definition_name, stage_id, handler FROM qm_run_estimates
          WHERE updated_at < coalesce($1::timestamptz, now()) - $2 * interval '1 day'
          LIMIT $3)`,
      [now, days, batch],
    );
    return rowCount ?? 0;
  } catch (err) {
    throw translateDbError(err, 'prune executions');
  }
}

/** One stage key's learned run time, as `qm estimates` shows it. */
export interface RunEstimate {
  /** The pipeline's definition name. */
  definitionName: string;
  /** The stage id. */
  stageId: string;
  /** The stage's handler. */
  handler: string;
  /** The learned run time at the stage's desired allocation, seconds. */
  seconds: number;
  /** Completed runs it is made of (used by the scheduler from {@link LEARNED_MIN_SAMPLES} on). */
  samples: number;
  /** When the last completed run refreshed it. */
  updatedAt: Date;
}

/**
 * Every learned run time, by key.
 * @throws DatabaseUnavailableError.
 */
export async function listRunEstimates(db: Database): Promise<RunEstimate[]> {
  try {
    const { rows } = await db.pool.query<{
      definition_name: string;
      stage_id: string;
      handler: string;
      seconds: number;
      samples: number;
      updated_at: Date;
    }>(
      `SELECT definition_name, stage_id, handler, seconds, samples, updated_at FROM qm_run_estimates
        ORDER BY definition_name, stage_id, handler`,
    );
    return rows.map((r) => ({
      definitionName: r.definition_name,
      stageId: r.stage_id,
      handler: r.handler,
      seconds: r.seconds,
      samples: r.samples,
      updatedAt: r.updated_at,
    }));
  } catch (err) {
    throw translateDbError(err, 'list run estimates');
  }
}

/** Which estimate an {@link EstimateAccuracy} row measures. */
export type EstimateKind = 'start' | 'run-time';

/**
 * How good one stage key's estimates were (the `qm_estimate_accuracy` view), error = actual − estimated,
 * seconds: positive means later (start) or longer (run time) than estimated.
 */
export interface EstimateAccuracy {
  /** The pipeline's definition name (`''` when unknown). */
  definitionName: string;
  /** The stage id. */
  stageId: string;
  /** The handler (`''` when unknown). */
  handler: string;
  /** `start`: started vs the last estimated start; `run-time`: run vs predicted run time at its CPU share. */
  kind: EstimateKind;
  /** For `run-time`: whether the prediction was declared or learned; `null` for `start`. */
  source: ExpectedSource | null;
  /** Attempts measured. */
  n: number;
  /** Mean absolute error, seconds. */
  maeSeconds: number;
  /** Mean error, seconds (the bias). */
  biasSeconds: number;
  /** 90th percentile of the absolute error, seconds. */
  p90AbsSeconds: number;
}

/**
 * The estimate accuracy per stage key, kind and source, over the records kept.
 * @throws DatabaseUnavailableError.
 */
export async function estimateAccuracy(db: Database): Promise<EstimateAccuracy[]> {
  try {
    const { rows } = await db.pool.query<{
      definition_name: string;
      stage_id: string;
      handler: string;
      kind: EstimateKind;
      source: ExpectedSource | null;
      n: number;
      mae_seconds: number;
      bias_seconds: number;
      p90_abs_seconds: number;
    }>(
      `SELECT definition_name, stage_id, handler, kind, source, n, mae_seconds, bias_seconds, p90_abs_seconds
         FROM qm_estimate_accuracy ORDER BY definition_name, stage_id, handler, kind, source NULLS FIRST`,
    );
    return rows.map((r) => ({
      definitionName: r.definition_name,
      stageId: r.stage_id,
      handler: r.handler,
      kind: r.kind,
      source: r.source,
      n: r.n,
      maeSeconds: r.mae_seconds,
      biasSeconds: r.bias_seconds,
      p90AbsSeconds: r.p90_abs_seconds,
    }));
  } catch (err) {
    throw translateDbError(err, 'read estimate accuracy');
  }
}

/** One waiting request's estimated start, as {@link recordEstimatedStarts} stores it. */
export interface EstimatedStart {
  /** Reservation key. */
  key: string;
  /** The estimated start, or `null` for "unknown" (the stored one is then left as it was). */
  at: Date | null;
}

/**
 * Stores the start the scheduler just estimated for each waiting request (on pending rows only), so the
 * attempt's record can compare it with when it really started. One statement, however many rows.
 * @returns the rows updated.
 * @throws InvalidLedgerArgumentError for an invalid `at`; DatabaseUnavailableError.
 */
export async function recordEstimatedStarts(
  db: Database,
  estimates: readonly EstimatedStart[],
): Promise<number> {
  const known = estimates.filter((e) => e.at !== null);
  if (known.length === 0) return 0;
  known.forEach((e, i) => checkDate(`estimates[${i}].at`, e.at));
  try {
    const { rowCount } = await db.pool.query(
      `UPDATE qm_reservations r SET estimated_start_at = v.at
         FROM unnest($1::text[], $2::timestamptz[]) AS v(key, at)
        WHERE r.key = v.key AND r.state = 'pending'`,
      [known.map((e) => e.key), known.map((e) => e.at)],
    );
    return rowCount ?? 0;
  } catch (err) {
    throw translateDbError(err, 'record estimated starts');
  }
}
