import { expireLapsed, withdrawAttempt } from '../../../src/ledger/admission';
import { toClusterSnapshot } from '../../../src/admission/cluster-snapshot';
import { commitDecisions } from '../../../src/ledger/commit';
import type { Database } from '../../../src/ledger/db';
import {
  estimateAccuracy,
  listExecutions,
  listRunEstimates,
  pruneExecutions,
  recordEstimatedStarts,
} from '../../../src/ledger/executions';
import { heartbeatNode, registerNode } from '../../../src/ledger/nodes';
import {
  cancelWorkflowReservations,
  markRunning,
  releaseReservation,
  renewLease,
  requestReservation,
  type ReleaseOptions,
  type ReservationRequest,
} from '../../../src/ledger/reservations';
import { acceptShrink, offerShrinks } from '../../../src/ledger/shrink';
import { snapshot } from '../../../src/ledger/snapshot';
import { LEARNED_REFRESH_MS, learnedSeconds } from '../../../src/execution/learned';
import { cpuRate } from '../../../src/scheduling/runtime';
import { runCycle } from '../../../src/scheduling/cycle';
import { DEFAULT_SCHEDULER_CONFIG } from '../../../src/scheduling/config';
import type { ResourceVector } from '../../../src/ledger/types';
import { dropSchema, openTestDatabase } from '../../support/env';
import { errorOf } from '../../support/errors';

// Execution data against a real PostgreSQL: every way a reservation ends writes exactly one record per
// attempt in the same statement; learned run times follow the completed runs; snapshots and the scheduling
// core use them like declared ones.

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

let db: Database;
let n = 0;

beforeAll(async () => {
  db = await openTestDatabase('qm_exec');
  await registerNode(db, { id: 'n1', capacity: { cpu: 64, memoryMb: 65536 } }, T0);
});
afterAll(async () => {
  await dropSchema(db);
});

interface Row {
  attempt_key: string;
  reservation_key: string;
  outcome: string;
  attempt: number;
  requested_at: Date;
  started_at: Date | null;
  run_seconds: number | null;
  cpu_rate: number;
  normalised_seconds: number | null;
  predicted_seconds: number | null;
  predicted_source: string | null;
}

async function records(workflowId: string): Promise<Row[]> {
  const { rows } = await db.pool.query<Row>(
    `SELECT attempt_key, reservation_key, outcome, attempt, requested_at, started_at, run_seconds, cpu_rate,
            normalised_seconds, predicted_seconds, predicted_source
       FROM qm_executions WHERE workflow_id = $1 ORDER BY attempt_key`,
    [workflowId],
  );
  return rows;
}

function request(over: Partial<ReservationRequest> = {}): ReservationRequest {
  n++;
  const workflowId = over.workflowId ?? `wf${n}`;
  return {
    key: `${workflowId}/run/s/${over.attempt ?? 1}`,
    workflowId,
    runId: 'run',
    stageId: 's',
    priority: 5,
    desired: { cpu: 4 },
    definitionName: 'etl',
    handler: 'qm.echo',
    ...over,
  };
}

/** Requests at `t`, grants `granted` at t+1 s, starts at t+2 s: a running reservation. */
async function running(
  r: ReservationRequest,
  t: number,
  granted: ResourceVector = r.desired,
): Promise<string> {
  await requestReservation(db, r, at(t));
  const out = await commitDecisions(
    db,
    [{ key: r.key, nodeId: 'n1', granted, leaseMs: 60_000 }],
    at(t + 1000),
    {
      staleAfterMs: 1e12,
    },
  );
  expect(out.granted).toHaveLength(1);
  await markRunning(db, r.key, 60_000, at(t + 2000));
  return r.key;
}

/** One completed run of `seconds` (started → released) of a stage key. */
async function completedRun(
  over: Partial<ReservationRequest>,
  t: number,
  seconds: number,
  granted?: ResourceVector,
  options: ReleaseOptions = { outcome: 'completed' },
): Promise<string> {
  const r = request(over);
  await running(r, t, granted ?? r.desired);
  await releaseReservation(db, r.key, at(t + 2000 + seconds * 1000), options);
  return r.workflowId;
}

describe('one record per attempt, written by the statement that ends the reservation', () => {
  test('a completed release records every field; a repeated release records nothing more', async () => {
    const r = request({
      workflowId: 'full',
      definitionVersion: 2,
      priority: 7,
      importance: 1.5,
      desired: { cpu: 4, memoryMb: 1024 },
      minimum: { cpu: 1, memoryMb: 512 },
      expectedSeconds: 10,
    });
    await running(r, 0, { cpu: 2, memoryMb: 1024 });
    // A pending request the shrink is for, then one accepted shrink.
    await requestReservation(db, request({ workflowId: 'blocked' }), at(2500));
    const offered = await offerShrinks(
      db,
      [{ key: r.key, to: { cpu: 1, memoryMb: 1024 }, forKey: 'blocked/run/s/1' }],
      at(3000),
    );
    await acceptShrink(db, { key: r.key, offeredAt: offered.offered[0]?.offeredAt as Date }, at(3500));
    await recordEstimatedStarts(db, [{ key: 'blocked/run/s/1', at: at(99_000) }]);
    expect((await releaseReservation(db, r.key, at(12_000), { outcome: 'completed' })).changed).toBe(true);
    expect((await releaseReservation(db, r.key, at(13_000), { outcome: 'failed' })).changed).toBe(false);
    const [rec, ...rest] = await listExecutions(db, {
      pipeline: 'etl',
      since: at(11_000),
      until: at(12_001),
    });
    expect(rest.filter((x) => x.workflowId === 'full')).toHaveLength(0);
    expect(rec).toEqual({
      workflowId: 'full',
      runId: 'run',
      definitionName: 'etl',
      definitionVersion: 2,
      stageId: 's',
      shardIndex: null,
      handler: 'qm.echo',
      attempt: 1,
      priority: 7,
      importance: 1.5,
      desired: { cpu: 4, memoryMb: 1024 },
      minimum: { cpu: 1, memoryMb: 512 },
      granted: { cpu: 1, memoryMb: 1024 },
      reduced: true,
      shrinks: 1,
      nodeId: 'n1',
      expectedSeconds: 10,
      predictedSeconds: 10,
      predictedSource: 'declared',
      requestedAt: at(0),
      grantedAt: at(1000),
      startedAt: at(2000),
      endedAt: at(12_000),
      estimatedStartAt: null,
      outcome: 'completed',
    });
    const [row] = await records('full');
    // 10 s at a quarter of the desired CPU (after the shrink): 2.5 s at desired; predicted 10 s declared.
    expect(row).toMatchObject({ run_seconds: 10, cpu_rate: 0.25, normalised_seconds: 2.5 });
    expect(row).toMatchObject({ predicted_seconds: 10, predicted_source: 'declared' });
    // The blocked request's estimate is on its row, for its own record later.
    await releaseReservation(db, 'blocked/run/s/1', at(14_000), { outcome: 'cancelled' });
    expect((await listExecutions(db, { since: at(13_999), until: at(14_001) }))[0]).toMatchObject({
      workflowId: 'blocked',
      outcome: 'cancelled',
      estimatedStartAt: at(99_000),
      grantedAt: null,
      startedAt: null,
    });
  });

  test('failed, cancelled and withdrawn attempts; a bare release defaults by whether it ran', async () => {
    const failed = request({ workflowId: 'failed' });
    await running(failed, 20_000);
    await releaseReservation(db, failed.key, at(25_000), { outcome: 'failed' });
    // No outcome: it had started, so `completed`; a pending one never ran, so `cancelled`.
    const bare = request({ workflowId: 'bare' });
    await running(bare, 20_000);
    await releaseReservation(db, bare.key, at(25_000));
    const pending = request({ workflowId: 'pending' });
    await requestReservation(db, pending, at(20_000));
    await releaseReservation(db, pending.key, at(25_000));
    // A cancelled workflow's live reservations; an attempt withdrawn while it waited (and its renewal).
    const cancelled = request({ workflowId: 'cancelled' });
    await running(cancelled, 20_000);
    expect(await cancelWorkflowReservations(db, 'cancelled', at(25_000))).toEqual([cancelled.key]);
    const withdrawn = request({ workflowId: 'withdrawn' });
    await requestReservation(db, withdrawn, at(20_000));
    expect(await withdrawAttempt(db, withdrawn.key)).toEqual([withdrawn.key]);
    expect((await records('failed')).map((r) => r.outcome)).toEqual(['failed']);
    expect((await records('bare')).map((r) => r.outcome)).toEqual(['completed']);
    expect((await records('pending')).map((r) => r.outcome)).toEqual(['cancelled']);
    expect((await records('cancelled')).map((r) => r.outcome)).toEqual(['cancelled']);
    expect((await records('withdrawn')).map((r) => r.outcome)).toEqual(['cancelled']);
    // An outcome that is none of completed / failed / cancelled is refused before anything is written.
    const other = request({ workflowId: 'other' });
    await running(other, 20_000);
    const err = await errorOf(
      releaseReservation(db, other.key, at(25_000), { outcome: 'expired' as 'failed' }),
    );
    expect(err).toMatchObject({ name: 'InvalidLedgerArgumentError', path: 'outcome' });
    expect(await records('other')).toEqual([]);
  });

  test('lapsed leases are recorded `expired` (pending, granted, running; and by a late renewal)', async () => {
    const base = 40_000;
    const pending = request({ workflowId: 'lapsed-pending', leaseMs: 1000 });
    await requestReservation(db, pending, at(base));
    const granted = request({ workflowId: 'lapsed-granted' });
    await requestReservation(db, granted, at(base));
    await commitDecisions(
      db,
      [{ key: granted.key, nodeId: 'n1', granted: { cpu: 4 }, leaseMs: 1000 }],
      at(base),
      {
        staleAfterMs: 1e12,
      },
    );
    const run = request({ workflowId: 'lapsed-running' });
    await requestReservation(db, run, at(base));
    await commitDecisions(
      db,
      [{ key: run.key, nodeId: 'n1', granted: { cpu: 4 }, leaseMs: 60_000 }],
      at(base),
      {
        staleAfterMs: 1e12,
      },
    );
    await markRunning(db, run.key, 1000, at(base + 100));
    const expired = await expireLapsed(db, at(base + 5000));
    expect(expired).toEqual(expect.arrayContaining([pending.key, granted.key, run.key]));
    for (const wf of ['lapsed-pending', 'lapsed-granted', 'lapsed-running'])
      expect((await records(wf)).map((r) => r.outcome)).toEqual(['expired']);
    expect((await records('lapsed-running'))[0]?.run_seconds).toBeCloseTo(4.9, 6);
    // A renewal that finds its lease past expires it in its own transaction, and records it.
    const late = request({ workflowId: 'lapsed-late' });
    await running(late, base);
    const err = await errorOf(renewLease(db, late.key, 1000, at(base + 120_000)));
    expect(err).toMatchObject({ name: 'LeaseExpiredError' });
    expect((await records('lapsed-late')).map((r) => r.outcome)).toEqual(['expired']);
  });

  test('a renewal (key~1) of an attempt replaces its record: one per attempt, the earliest request kept', async () => {
    const first = request({ workflowId: 'renewed', leaseMs: 1000 });
    await requestReservation(db, first, at(60_000));
    await expireLapsed(db, at(62_000));
    expect((await records('renewed')).map((r) => r.outcome)).toEqual(['expired']);
    const again = { ...first, key: `${first.key}~1`, leaseMs: 60_000 };
    await running(again, 63_000);
    await releaseReservation(db, again.key, at(70_000), { outcome: 'completed' });
    const rows = await records('renewed');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      attempt_key: first.key,
      reservation_key: again.key,
      outcome: 'completed',
      requested_at: at(60_000),
    });
    // A second attempt is a second record.
    await completedRun({ workflowId: 'renewed', attempt: 2 }, 71_000, 1);
    expect((await records('renewed')).map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
    ]);
  });

  test('a request withdrawn to be sharded (record: false) writes no record; its shards do', async () => {
    const whole = request({ workflowId: 'sharded' });
    await requestReservation(db, whole, at(80_000));
    await releaseReservation(db, whole.key, at(80_500), { record: false });
    for (const shardIndex of [0, 1])
      await completedRun(
        { workflowId: 'sharded', key: `sharded/run/s#${shardIndex}/1`, shardIndex, desired: { cpu: 2 } },
        81_000,
        1,
      );
    expect((await records('sharded')).map((r) => r.attempt_key)).toEqual([
      'sharded/run/s#0/1',
      'sharded/run/s#1/1',
    ]);
  });
});

test.each<[Partial<ReservationRequest>, string]>([
  [{ attempt: 0 }, 'request.attempt'],
  [{ attempt: 1.5 }, 'request.attempt'],
  [{ definitionVersion: 0 }, 'request.definitionVersion'],
  [{ definitionName: ' ' }, 'request.definitionName'],
  [{ handler: '' }, 'request.handler'],
])('a request with %j is refused (typed, nothing written)', async (bad, path) => {
  const r = request({ workflowId: 'refused', ...bad });
  expect(await errorOf(requestReservation(db, r, at(0)))).toMatchObject({
    name: 'InvalidLedgerArgumentError',
    path,
  });
  const { rows } = await db.pool.query(`SELECT 1 FROM qm_reservations WHERE workflow_id = 'refused'`);
  expect(rows).toEqual([]);
});

describe('learned run times', () => {
  test('from the 3rd completed run: the p90 of CPU-normalised run times, equal to the pure twin', async () => {
    const key = { definitionName: 'learn', handler: 'h.learn', minimum: { cpu: 1 } };
    const snap = async () => (await snapshot(db, at(200_000), { staleAfterMs: 1e12 })).pending;
    // Two runs: 10 s at full CPU, 40 s at half (20 s at desired). Failed runs never count.
    await completedRun(key, 100_000, 10);
    await completedRun(key, 110_000, 40, { cpu: 2 });
    await completedRun(key, 120_000, 500, undefined, { outcome: 'failed' });
    expect((await listRunEstimates(db)).find((e) => e.definitionName === 'learn')).toMatchObject({
      samples: 2,
      seconds: learnedSeconds(
        [
          { runSeconds: 40, granted: { cpu: 2 }, desired: { cpu: 4 } },
          { runSeconds: 10, granted: { cpu: 4 }, desired: { cpu: 4 } },
        ],
        1,
      )?.seconds,
    });
    // Below 3 runs a request without expectedSeconds stays unknown.
    await requestReservation(db, request({ ...key, workflowId: 'learn-waits' }), at(130_000));
    const unknown = (await snap()).find((r) => r.workflowId === 'learn-waits');
    expect(unknown?.learned).toBeUndefined();
    await completedRun(key, 140_000, 30);
    const expected = learnedSeconds([
      { runSeconds: 30, granted: { cpu: 4 }, desired: { cpu: 4 } },
      { runSeconds: 40, granted: { cpu: 2 }, desired: { cpu: 4 } },
      { runSeconds: 10, granted: { cpu: 4 }, desired: { cpu: 4 } },
    ]);
    expect(expected).toEqual({ seconds: 28, samples: 3 });
    const pending = await snap();
    expect(pending.find((r) => r.workflowId === 'learn-waits')?.learned).toEqual(expected);
    // The core's snapshot carries it as the expected run time, marked learned; a declared one wins; a shard
    // (a slice of the stage's work) never uses the stage's learned time.
    await requestReservation(
      db,
      request({ ...key, workflowId: 'learn-declared', expectedSeconds: 5 }),
      at(130_000),
    );
    await requestReservation(
      db,
      request({ ...key, workflowId: 'learn-shard', key: 'learn-shard/run/s#0/1', shardIndex: 0 }),
      at(130_000),
    );
    const cluster = toClusterSnapshot(await snapshot(db, at(200_000), { staleAfterMs: 1e12 }));
    const byWf = new Map(cluster.pending.map((p) => [p.workflowId, p]));
    expect(byWf.get('learn-waits')).toMatchObject({
      expectedSeconds: 28,
      expectedSource: 'learned',
      expectedSamples: 3,
    });
    expect(byWf.get('learn-declared')).toMatchObject({ expectedSeconds: 5, expectedSource: 'declared' });
    expect(byWf.get('learn-shard')?.expectedSeconds).toBeUndefined();
    // The record of a run of that key says what it was predicted to run (learned, before this run).
    const wf = await completedRun(key, 150_000, 26);
    expect((await records(wf))[0]).toMatchObject({ predicted_seconds: 28, predicted_source: 'learned' });
    // listExecutions returns the prediction with the record: learned, no declared run time.
    expect(
      (await listExecutions(db, { pipeline: key.definitionName })).find((x) => x.workflowId === wf),
    ).toMatchObject({
      expectedSeconds: null,
      predictedSeconds: 28,
      predictedSource: 'learned',
    });
  });

  test('only the last 50 completed runs count', async () => {
    const key = { definitionName: 'window', handler: 'h.window' };
    // Oldest first, each ending before the next starts: the five slow ones are the oldest.
    for (let i = 0; i < 55; i++) await completedRun(key, 1_000_000 + i * 1_000_000, i < 5 ? 900 : 1);
    const est = (await listRunEstimates(db)).find((e) => e.definitionName === 'window');
    expect(est).toMatchObject({ samples: 50, seconds: 1 });
  });

  test('with a full window, a key is refreshed at most once per LEARNED_REFRESH_MS of completions', async () => {
    const key = { definitionName: 'burst', handler: 'h.burst' };
    const estimate = async () => (await listRunEstimates(db)).find((e) => e.definitionName === 'burst');
    const base = 2_000_000_000;
    for (let i = 0; i < 50; i++) await completedRun(key, base + i * 1_000_000, 1);
    const full = await estimate();
    expect(full).toMatchObject({ samples: 50, seconds: 1 });
    const lastEnd = base + 49 * 1_000_000 + 3000;
    // Five slow runs ending within the refresh period after the last refresh: recorded, the estimate kept.
    for (let k = 1; k <= 5; k++) await completedRun(key, lastEnd + k * 100 - 2000 - 900_000, 900);
    expect(await estimate()).toEqual(full);
    expect((await listExecutions(db, { pipeline: 'burst', limit: 100 })).length).toBe(55);
    // The next one past the period refreshes it from the whole window, the skipped runs included.
    await completedRun(key, lastEnd + LEARNED_REFRESH_MS + 1 - 2000 - 900_000, 900);
    const after = await estimate();
    expect(after?.samples).toBe(50);
    expect(after?.seconds).toBeGreaterThan(800);
  });

  test('qm_cpu_rate (SQL) equals cpuRate (TypeScript)', async () => {
    const table: Array<[ResourceVector, ResourceVector]> = [
      [{ cpu: 2 }, { cpu: 4 }],
      [{ cpu: 4 }, { cpu: 4 }],
      [{ cpu: 0.001 }, { cpu: 4 }],
      [{ memoryMb: 10 }, { memoryMb: 10 }],
      [{ cpu: 0 }, { cpu: 0, memoryMb: 5 }],
      [{}, { cpu: 3 }],
    ];
    for (const [granted, desired] of table) {
      const { rows } = await db.pool.query<{ r: number }>('SELECT qm_cpu_rate($1::jsonb, $2::jsonb) AS r', [
        JSON.stringify(granted),
        JSON.stringify(desired),
      ]);
      expect(rows[0]?.r).toBeCloseTo(cpuRate(granted, desired), 12);
    }
  });
});

describe('the scheduling core treats a learned run time as a declared one', () => {
  let bdb: Database;
  beforeAll(async () => {
    bdb = await openTestDatabase('qm_exec_bf');
  });
  afterAll(async () => {
    await dropSchema(bdb);
  });

  async function completed(db2: Database, definitionName: string, seconds: number, t: Date): Promise<void> {
    n++;
    const key = `hist-${n}/run/work/1`;
    await requestReservation(
      db2,
      {
        key,
        workflowId: `hist-${n}`,
        stageId: 'work',
        priority: 5,
        desired: { cpu: 2 },
        definitionName,
        handler: 'qm.echo',
      },
      t,
    );
    await commitDecisions(db2, [{ key, nodeId: 'b1', granted: { cpu: 2 }, leaseMs: 60_000 }], t, {
      staleAfterMs: 1e12,
    });
    await markRunning(db2, key, 60_000, t);
    await releaseReservation(db2, key, new Date(t.getTime() + seconds * 1000), { outcome: 'completed' });
  }

  test('backfilled into a hold it fits (learned 1 s); a stage without history waits; an overrun projects to now', async () => {
    const t = new Date(Date.now() - 3_600_000);
    await registerNode(bdb, { id: 'b1', capacity: { cpu: 4 } }, t);
    for (let i = 0; i < 3; i++) await completed(bdb, 'learner', 1, new Date(t.getTime() + i * 10_000));
    for (let i = 0; i < 3; i++) await completed(bdb, 'longish', 60, new Date(t.getTime() + i * 100_000));
    const now = new Date();
    await heartbeatNode(bdb, 'b1', now);
    // A long stage with a learned 60 s run has run on 2 cpu for 10 s; a priority-10 stage wants all 4.
    const req = (
      workflowId: string,
      definitionName: string,
      priority: number,
      cpu: number,
    ): ReservationRequest => ({
      key: `${workflowId}/run/work/1`,
      workflowId,
      stageId: 'work',
      priority,
      desired: { cpu },
      definitionName,
      handler: 'qm.echo',
    });
    await requestReservation(bdb, req('long', 'longish', 3, 2), new Date(now.getTime() - 10_000));
    await commitDecisions(
      bdb,
      [{ key: 'long/run/work/1', nodeId: 'b1', granted: { cpu: 2 }, leaseMs: 600_000 }],
      new Date(now.getTime() - 10_000),
      { staleAfterMs: 1e12 },
    );
    // Running since then: its expected end counts from its start.
    await markRunning(bdb, 'long/run/work/1', 600_000, new Date(now.getTime() - 10_000));
    await requestReservation(bdb, req('big', 'big', 10, 4), now);
    await requestReservation(bdb, req('unknown', 'never-ran', 1, 2), now);
    await requestReservation(bdb, req('learned', 'learner', 1, 2), now);
    const snap = await snapshot(bdb, now);
    const cluster = toClusterSnapshot(snap);
    expect(cluster.running.find((g) => g.key === 'long/run/work/1')).toMatchObject({
      expectedEndAt: new Date(now.getTime() - 10_000 + 60_000),
      expectedSource: 'learned',
    });
    const { decisions } = runCycle(cluster, snap.now, DEFAULT_SCHEDULER_CONFIG);
    const of = (wf: string) => decisions.find((d) => d.key === `${wf}/run/work/1`);
    expect(of('big')).toMatchObject({
      kind: 'wait',
      hold: { nodeId: 'b1', startsAt: new Date(now.getTime() + 50_000) },
    });
    expect(of('learned')).toMatchObject({ kind: 'grant', nodeId: 'b1' });
    expect(of('unknown')?.kind).toBe('wait');
    // Without its history the same stage would wait: the learned time is what let it in.
    const blind = toClusterSnapshot({
      ...snap,
      pending: snap.pending.map(({ learned: _l, ...r }) => r),
    });
    expect(
      runCycle(blind, snap.now, DEFAULT_SCHEDULER_CONFIG).decisions.find(
        (d) => d.key === 'learned/run/work/1',
      )?.kind,
    ).toBe('wait');
    // The long stage overruns its learned 60 s: its projected end is now, so the hold starts now.
    const later = new Date(now.getTime() + 120_000);
    await heartbeatNode(bdb, 'b1', later);
    const overrun = await snapshot(bdb, later);
    const after = runCycle(toClusterSnapshot(overrun), later, DEFAULT_SCHEDULER_CONFIG);
    expect(after.decisions.find((d) => d.key === 'big/run/work/1')).toMatchObject({
      kind: 'wait',
      hold: { startsAt: later },
    });
  });
});

describe('reads', () => {
  test('listExecutions filters by time and pipeline, newest first; bad options are typed errors', async () => {
    const all = await listExecutions(db, { since: at(0), limit: 100_000 });
    const ends = all.map((r) => r.endedAt.getTime());
    expect([...ends].sort((a, b) => b - a)).toEqual(ends);
    expect((await listExecutions(db, { pipeline: 'learn' })).every((r) => r.definitionName === 'learn')).toBe(
      true,
    );
    expect(await listExecutions(db, { limit: 2 })).toHaveLength(2);
    for (const [options, path] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ since: new Date('nope') }, 'since'],
      [{ pipeline: '' }, 'pipeline'],
    ] as const)
      expect(await errorOf(listExecutions(db, options))).toMatchObject({
        name: 'InvalidLedgerArgumentError',
        path,
      });
  });

  test('estimate accuracy per key: start error (started − last estimate) and run-time error by source', async () => {
    // Estimated to start at 5 s, started at 7 s (requested 0, granted 6, running 7): +2 s.
    const r = request({ definitionName: 'acc', handler: 'h.acc', workflowId: 'acc1', expectedSeconds: 10 });
    await requestReservation(db, r, at(400_000));
    await recordEstimatedStarts(db, [
      { key: r.key, at: at(405_000) },
      { key: 'nope', at: null },
    ]);
    await commitDecisions(
      db,
      [{ key: r.key, nodeId: 'n1', granted: { cpu: 4 }, leaseMs: 60_000 }],
      at(406_000),
      {
        staleAfterMs: 1e12,
      },
    );
    await markRunning(db, r.key, 60_000, at(407_000));
    await releaseReservation(db, r.key, at(419_000), { outcome: 'completed' });
    const acc = (await estimateAccuracy(db)).filter((a) => a.definitionName === 'acc');
    expect(acc).toEqual([
      {
        definitionName: 'acc',
        stageId: 's',
        handler: 'h.acc',
        kind: 'run-time',
        source: 'declared',
        n: 1,
        maeSeconds: 2,
        biasSeconds: 2,
        p90AbsSeconds: 2,
      },
      {
        definitionName: 'acc',
        stageId: 's',
        handler: 'h.acc',
        kind: 'start',
        source: null,
        n: 1,
        maeSeconds: 2,
        biasSeconds: 2,
        p90AbsSeconds: 2,
      },
    ]);
    expect(await errorOf(recordEstimatedStarts(db, [{ key: 'x', at: new Date('bad') }]))).toMatchObject({
      name: 'InvalidLedgerArgumentError',
    });
  });

  test('pruning deletes records past the retention, one bounded batch per call', async () => {
    // Most records here ended on 2026-01-01; "now" is 40 days later, with a 30-day retention. (A withdrawal
    // is stamped with the database's real clock: it is not old.)
    const now = new Date(T0.getTime() + 40 * 86_400_000);
    const before = (
      await db.pool.query<{ c: string }>(
        `SELECT count(*) AS c FROM qm_executions WHERE ended_at < $1::timestamptz - interval '30 days'`,
        [now],
      )
    ).rows[0]?.c;
    expect(Number(before)).toBeGreaterThan(60);
    expect(await pruneExecutions(db, { now, batchRows: 10 })).toBe(10);
    expect(await pruneExecutions(db, { now, retentionDays: 45 })).toBe(0);
    let total = 10;
    for (;;) {
      const deleted = await pruneExecutions(db, { now, batchRows: 1000 });
      total += deleted;
      if (deleted < 1000) break;
    }
    expect(String(total)).toBe(before);
    // Learned run times refreshed within the retention stay; one not refreshed since goes with its history.
    await db.pool.query(
      `INSERT INTO qm_run_estimates (definition_name, stage_id, handler, seconds, samples, updated_at)
       VALUES ('stale-def', 's', 'qm.echo', 5, 3, $1), ('fresh-def', 's', 'qm.echo', 5, 3, $2)`,
      [T0, now],
    );
    await pruneExecutions(db, { now });
    const kept = await db.pool.query<{ definition_name: string }>(
      `SELECT definition_name FROM qm_run_estimates WHERE definition_name IN ('stale-def', 'fresh-def')`,
    );
    expect(kept.rows.map((r) => r.definition_name)).toEqual(['fresh-def']);
    expect(await errorOf(pruneExecutions(db, { retentionDays: 0 }))).toMatchObject({ path: 'retentionDays' });
    expect(await errorOf(pruneExecutions(db, { batchRows: 0 }))).toMatchObject({ path: 'batchRows' });
  });
});
