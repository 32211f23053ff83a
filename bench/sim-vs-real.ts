import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelineResult, startPipeline } from '../src/client';
import { defineStage } from '../src/handlers/registry';
import { openDatabase } from '../src/ledger/db';
import { setPoolCapacity } from '../src/ledger/pools';
import type { JsonValue } from '../src/handlers/types';
import type { PipelineResult } from '../src/pipeline/types';
import { projectRoot } from '../src/services/project-root';
import {
  bandOf,
  parseWorkload,
  simulate,
  waitStats,
  type Band,
  type SimulateOptions,
  type Workload,
} from '../src/simulator';
import { startBenchCluster } from './cluster';
import { markdownTable, writeBenchSection } from './report';

/** Divides every time in a raw workload (arrivals, durations, expected times, boosts) by `scale`. */
function scaleWorkload(raw: Record<string, unknown>, scale: number): unknown {
  const w = JSON.parse(JSON.stringify(raw)) as {
    submissions: Array<{
      at: number;
      durations: Record<string, number>;
      expectedSeconds?: Record<string, number>;
      boosts?: Array<{ at: number; ttlSeconds: number }>;
    }>;
  };
  for (const s of w.submissions) {
    s.at /= scale;
    for (const k of Object.keys(s.durations)) s.durations[k] = (s.durations[k] as number) / scale;
    for (const k of Object.keys(s.expectedSeconds ?? {})) {
      (s.expectedSeconds as Record<string, number>)[k] = (s.expectedSeconds?.[k] as number) / scale;
    }
    for (const b of s.boosts ?? []) {
      b.at /= scale;
      b.ttlSeconds = Math.max(1, Math.round(b.ttlSeconds / scale));
    }
  }
  return w;
}

type Waits = Record<Band, number[]>;

/** Per-band stage waits of a simulation. */
function simulatedWaits(workload: Workload, options: SimulateOptions): Waits {
  const trace = simulate(workload, { policy: 'quartermaster', ...options });
  const waits: Waits = { high: [], mid: [], low: [] };
  for (const s of trace.stages) {
    if (s.readyAt !== null && s.startedAt !== null) waits[bandOf(s.priority)].push(s.startedAt - s.readyAt);
  }
  return waits;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
}

interface ReservationTimes {
  workflow_id: string;
  stage_id: string;
  shard_index: number | null;
  granted: Record<string, number> | null;
  desired: Record<string, number>;
  requested_at: Date;
  granted_at: Date | null;
  started_at: Date | null;
  ended_at: Date | null;
}

/**
 * The real deployment's round trips, from the ledger: stage ready → request recorded (`requested_at −` the
 * ready time seen by the workflows), grant → handler running (`started_at − granted_at`), and handler's
 * work done → capacity released (`ended_at − started_at −` the stage's work at its allocation); medians
 * (request and release over whole stages only: a shard's ready time and work are not known per row).
 */
function measuredLatencies(
  rows: ReservationTimes[],
  workload: Workload,
  ready: Map<string, number>,
): { request: number; start: number; release: number; n: number } {
  const requests: number[] = [];
  const starts: number[] = [];
  const releases: number[] = [];
  for (const r of rows) {
    const i = /^simreal-(\d+)-/.exec(r.workflow_id)?.[1];
    const readyAt = i === undefined || r.shard_index !== null ? undefined : ready.get(`${i}/${r.stage_id}`);
    if (readyAt !== undefined) requests.push((r.requested_at.getTime() - readyAt) / 1000);
    if (r.granted_at === null || r.started_at === null) continue;
    starts.push((r.started_at.getTime() - r.granted_at.getTime()) / 1000);
    const sub = i === undefined ? undefined : workload.submissions[Number(i)];
    const seconds = sub?.durations[r.stage_id];
    if (r.shard_index !== null || r.ended_at === null || seconds === undefined) continue;
    const want = r.desired.cpu ?? 0;
    const share = want > 0 ? Math.max(0.01, Math.min(1, (r.granted?.cpu ?? want) / want)) : 1;
    releases.push((r.ended_at.getTime() - r.started_at.getTime()) / 1000 - seconds / share);
  }
  return {
    request: Math.max(0, median(requests)),
    start: median(starts),
    release: Math.max(0, median(releases)),
    n: starts.length,
  };
}

/** When each stage became ready in the real run (epoch ms): its submission, or its last dependency's end. Key `i/stage`. */
function readyTimes(
  workload: Workload,
  results: PipelineResult[],
  submittedAt: number[],
): Map<string, number> {
  const ready = new Map<string, number>();
  workload.submissions.forEach((s, i) => {
    const r = results[i] as PipelineResult;
    for (const stage of s.definition.stages) {
      const deps = stage.dependsOn;
      ready.set(
        `${i}/${stage.id}`,
        deps.length === 0
          ? (submittedAt[i] as number)
          : Math.max(...deps.map((d) => Date.parse(r.stages[d]?.completedAt ?? ''))),
      );
    }
  });
  return ready;
}

/** Real waits per band: a stage's start (its admission, in the workflow) minus when it became ready. */
function realWaits(workload: Workload, results: PipelineResult[], ready: Map<string, number>): Waits {
  const waits: Waits = { high: [], mid: [], low: [] };
  workload.submissions.forEach((s, i) => {
    const r = results[i] as PipelineResult;
    for (const stage of s.definition.stages) {
      const started = Date.parse(r.stages[stage.id]?.startedAt ?? '');
      const at = ready.get(`${i}/${stage.id}`) as number;
      waits[bandOf(stage.priority)].push(Math.max(0, (started - at) / 1000));
    }
  });
  return waits;
}

/**
 * `npm run bench -- sim-vs-real [SCALE]`: the 1.5× overload workload, time-compressed by SCALE (default 20),
 * run end to end on a real dev server + PostgreSQL with four in-process nodes (stages sleep their duration,
 * stretched by their CPU share like the simulator assumes), and simulated on the same compressed workload;
 * reports the simulator's error on per-band p95 wait.
 */
export async function run(args: string[]): Promise<void> {
  const scale = Number(args[0] ?? 20);
  const raw = JSON.parse(
    readFileSync(path.join(projectRoot(), 'bench', 'workloads', 'overload-1.5x.json'), 'utf8'),
  ) as Record<string, unknown>;
  const workload = parseWorkload(scaleWorkload(raw, scale));
  const simWaits = simulatedWaits(workload, {});

  // A stage sleeps its duration at the desired allocation, longer on a reduced grant (as simulated).
  const work = defineStage('bench.work', async ({ input, allocation }) => {
    const { ms, desiredCpu, itemsField, totalItems } = input as {
      ms: number;
      desiredCpu: number;
      itemsField?: string;
      totalItems?: number;
    };
    // A shard runs its item share of the stage's time (as simulated).
    const slice = itemsField ? (input as Record<string, unknown>)[itemsField] : undefined;
    const itemShare = Array.isArray(slice) && totalItems ? slice.length / totalItems : 1;
    const share = desiredCpu > 0 ? Math.min(1, (allocation.cpu ?? desiredCpu) / desiredCpu) : 1;
    await new Promise((r) => setTimeout(r, (ms * itemShare) / Math.max(share, 0.01)));
    // Shards return their slice, for the workload's `qm.concat` reducers.
    return Array.isArray(slice) ? (slice as JsonValue[]) : [];
  });
  const cluster = await startBenchCluster({
    name: 'simreal',
    nodes: workload.cluster.nodes.map((n) => ({ id: n.id, capacity: { ...n.capacity }, monitor: false })),
    handlers: [work],
  });
  let results: PipelineResult[];
  let times: ReservationTimes[];
  const submittedAt: number[] = [];
  const started = Date.now();
  try {
    const db = await openDatabase({ connectionString: cluster.databaseUrl, schema: cluster.schema });
    for (const [name, capacity] of Object.entries(workload.cluster.pools))
      await setPoolCapacity(db, name, capacity, new Date());
    await db.close();
    const t0 = Date.now() + 1000;
    const handles = await Promise.all(
      workload.submissions.map(async (s, i) => {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + s.at * 1000 - Date.now())));
        const definition = {
          ...s.definition,
          name: `${s.definition.name}-${i}`,
          stages: s.definition.stages.map((st) => ({
            ...st,
            handler: 'bench.work',
            // What the simulator tells its scheduler, told to the real one too (backfill, estimates).
            ...(s.expectedSeconds[st.id] ? { expectedSeconds: s.expectedSeconds[st.id] } : {}),
            input: {
              ...(st.input as Record<string, unknown>),
              ms: (s.durations[st.id] ?? 0) * 1000,
              desiredCpu: st.resources?.desired.cpu ?? 0,
              ...(st.shard?.by === 'items' && st.shard.field
                ? {
                    itemsField: st.shard.field,
                    totalItems: ((st.input as Record<string, unknown>)[st.shard.field] as unknown[]).length,
                  }
                : {}),
            },
          })),
        };
        submittedAt[i] = Date.now();
        return startPipeline(cluster.client, definition, {
          taskQueue: cluster.taskQueue,
          workflowId: `simreal-${i}-${t0}`,
        });
      }),
    );
    results = await Promise.all(
      handles.map((h) =>
        pipelineResult(h).catch((err: unknown) => {
          const cause = (err as { cause?: { message?: string } }).cause;
          throw new Error(`${h.workflowId} failed: ${cause?.message ?? String(err)}`);
        }),
      ),
    );
    const ledger = await openDatabase({ connectionString: cluster.databaseUrl, schema: cluster.schema });
    try {
      const { rows } = await ledger.pool.query<ReservationTimes>(
        `SELECT workflow_id, stage_id, shard_index, granted, desired, requested_at, granted_at, started_at, ended_at
           FROM qm_reservations`,
      );
      times = rows;
    } finally {
      await ledger.close();
    }
  } finally {
    await cluster.close();
  }
  const ready = readyTimes(workload, results, submittedAt);
  const real = realWaits(workload, results, ready);
  const latency = measuredLatencies(times, workload, ready);
  const calibrated = simulatedWaits(workload, {
    requestLatencySeconds: latency.request,
    startLatencySeconds: latency.start,
    releaseLatencySeconds: latency.release,
  });
  const relative = (sim: number, act: number): string =>
    act > 0 ? `${((100 * (sim - act)) / act).toFixed(0)} %` : '—';
  // p95 per band (the measure) and p50 (steadier: a band's p95 over a few dozen stages is one stage).
  const rows = (['high', 'mid', 'low'] as const).flatMap((band) =>
    (['p95', 'p50'] as const).map((q) => {
      const sim = waitStats(simWaits[band])[q];
      const cal = waitStats(calibrated[band])[q];
      const act = waitStats(real[band])[q];
      return [
        band,
        q,
        real[band].length,
        act.toFixed(1),
        sim.toFixed(1),
        relative(sim, act),
        cal.toFixed(1),
        relative(cal, act),
      ];
    }),
  );
  const body = [
    `\`bench/workloads/overload-1.5x.json\` (${workload.submissions.length} pipelines on 4 nodes of 16 cores) compressed ${scale}×`,
    `(arrivals and durations ÷ ${scale}), run for real — dev server, PostgreSQL, four in-process nodes, stages sleeping`,
    'their duration stretched by their CPU share — and simulated on the same compressed workload. The scheduler tick (5 s)',
    `is not compressed, in either. Real run: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    '',
    `Both runs tell the scheduler each stage's expected run time (the workload's \`expectedSeconds\`, i.e. its`,
    "duration), so both backfill. Measured in the real run's ledger (medians over " +
      `${latency.n} reservations): stage ready → request recorded ${(latency.request * 1000).toFixed(0)} ms, ` +
      `grant → handler running ${(latency.start * 1000).toFixed(0)} ms, work done → capacity released ` +
      `${(latency.release * 1000).toFixed(0)} ms. "Simulated + latencies" replays the workload with those as`,
    '`requestLatencySeconds` / `startLatencySeconds` / `releaseLatencySeconds` (capacity held while the work',
    'has not started or has ended).',
    '',
    markdownTable(
      ['band', 'wait', 'stages', 'real s', 'simulated s', 'error', 'simulated + latencies s', 'error'],
      rows,
    ),
  ].join('\n');
  writeBenchSection('sim-vs-real', 'Simulator against a real run (schedule-quality issue)', body);
  process.stderr.write(`${body}\n`);
}
