/**
 * Schedule-quality metrics of a simulation, as `qm simulate --json` prints them (the keys are a contract:
 * more may be added, none renamed).
 */
import type { SimulationTrace } from './trace';

/** Wait statistics, seconds (nearest-rank percentiles; all 0 when `count` is 0). */
export interface WaitStats {
  /** Mean. */
  readonly mean: number;
  /** Median. */
  readonly p50: number;
  /** 95th percentile. */
  readonly p95: number;
  /** Largest. */
  readonly max: number;
  /** Stages counted. */
  readonly count: number;
}

/** Priority bands: `high` 8–10, `mid` 4–7, `low` 1–3. */
export type Band = 'high' | 'mid' | 'low';

/** How good the start-time estimates were: error = actual start − estimated start, seconds. */
export interface EstimateErrorStats {
  /** Stages that waited and got an estimate. */
  readonly count: number;
  /** Mean |error|. */
  readonly meanAbsErrorSeconds: number;
  /** Median |error|. */
  readonly p50AbsErrorSeconds: number;
  /** 95th percentile of |error|. */
  readonly p95AbsErrorSeconds: number;
  /** Mean signed error (> 0: stages started later than estimated). */
  readonly meanErrorSeconds: number;
}

/** The metrics of one policy's run. */
export interface SimulationMetrics {
  /** The policy. */
  readonly policy: string;
  /** Last completion − first submission, seconds. */
  readonly makespanSeconds: number;
  /**
   * Resource → Σ granted ÷ capacity, averaged over the time some request waited (the whole run when
   * nothing ever waited).
   */
  readonly utilization: Record<string, number>;
  /** Wait = stage ready → stage (or its first shard) started, seconds. */
  readonly waitSeconds: {
    readonly all: WaitStats;
    readonly byBand: Record<Band, WaitStats>;
    /** Priority ("1"–"10", only those present) → stats. */
    readonly byPriority: Record<string, WaitStats>;
  };
  /** Mean of (pipeline completion − submission), weighted by the pipeline's highest stage priority, seconds. */
  readonly weightedCompletionSeconds: number;
  /** Grants below desired. */
  readonly reducedGrants: number;
  /** Shards created. */
  readonly shards: number;
  /** Pipelines completed with shards dropped. */
  readonly partialCompletions: number;
  /** Times Σ granted exceeded a capacity (must be 0). */
  readonly overcommitEvents: number;
  /** Stages split into shards. */
  readonly shardedStages: number;
  /** Shrink offers applied to running stages. */
  readonly degradations: number;
  /** Stages that never started (a resource never became free). */
  readonly unstartedStages: number;
  /** Seconds during which some request waited. */
  readonly backlogSeconds: number;
  /** The documented maximum ranking delay (`starvationBoundSeconds`), `null` when unbounded. */
  readonly starvationBoundSeconds: number | null;
  /** Start-time estimate quality. */
  readonly waitEstimate: EstimateErrorStats;
  /** Scheduling cycles run. */
  readonly cycles: number;
  /**
   * Resource → Σ granted × time ÷ (capacity × makespan): the whole run's utilisation (next to
   * `utilization`, which counts only the time something waited).
   */
  readonly overallUtilization: Record<string, number>;
  /**
   * Mean bounded slowdown, `max(1, (wait + run) / max(run, thresholdSeconds))` per started stage (run =
   * its start to its end), overall and by band.
   */
  readonly boundedSlowdown: {
    readonly thresholdSeconds: number;
    readonly all: number;
    readonly byBand: Record<Band, number>;
  };
  /** How holds behaved. */
  readonly holds: {
    /** Times a request became a holder. */
    readonly holderChanges: number;
    /** Times a holder lost its hold while it still waited. */
    readonly switchesWhileWaiting: number;
    /** Resource → capacity × time held free for a blocked request ÷ (capacity × makespan). */
    readonly heldUnused: Record<string, number>;
  };
}

/** The bounded-slowdown threshold, seconds (the usual 10 s: very short runs do not dominate the mean). */
export const SLOWDOWN_THRESHOLD_SECONDS = 10;

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? 0 : sum / values.length;
}

/** The nearest-rank p-th percentile (0–100) of ascending `sorted`; 0 when empty. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Wait statistics of `values` (seconds). */
export function waitStats(values: readonly number[]): WaitStats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: mean(sorted),
    p50: percentileSorted(sorted, 50),
    p95: percentileSorted(sorted, 95),
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number),
    count: sorted.length,
  };
}

/** The band of a priority: 8–10 high, 4–7 mid, 1–3 low. */
export function bandOf(priority: number): Band {
  return priority >= 8 ? 'high' : priority >= 4 ? 'mid' : 'low';
}

/** Summarises a trace into {@link SimulationMetrics}. Never throws. */
export function computeMetrics(trace: SimulationTrace): SimulationMetrics {
  const all: number[] = [];
  const bands: Record<Band, number[]> = { high: [], mid: [], low: [] };
  const byPriority = new Map<number, number[]>();
  const estimateErrors: number[] = [];
  const slowdowns: number[] = [];
  const bandSlowdowns: Record<Band, number[]> = { high: [], mid: [], low: [] };
  let unstarted = 0;
  for (const s of trace.stages) {
    if (s.readyAt === null) {
      unstarted++;
      continue;
    }
    if (s.startedAt === null) {
      unstarted++;
      continue;
    }
    const w = s.startedAt - s.readyAt;
    all.push(w);
    bands[bandOf(s.priority)].push(w);
    const list = byPriority.get(s.priority) ?? [];
    list.push(w);
    byPriority.set(s.priority, list);
    if (s.estimatedStartAt !== null) estimateErrors.push(s.startedAt - s.estimatedStartAt);
    if (s.completedAt !== null) {
      const run = s.completedAt - s.startedAt;
      const bsld = Math.max(1, (w + run) / Math.max(run, SLOWDOWN_THRESHOLD_SECONDS));
      slowdowns.push(bsld);
      bandSlowdowns[bandOf(s.priority)].push(bsld);
    }
  }
  let first = Infinity;
  let last = 0;
  let weighted = 0;
  let weights = 0;
  for (const p of trace.pipelines) {
    first = Math.min(first, p.submittedAt);
    if (p.completedAt === null) continue;
    last = Math.max(last, p.completedAt);
    weighted += p.weight * (p.completedAt - p.submittedAt);
    weights += p.weight;
  }
  const utilization: Record<string, number> = {};
  const useBacklog = trace.backlogSeconds > 0;
  const span = useBacklog ? trace.backlogSeconds : Math.max(0, last - (Number.isFinite(first) ? first : 0));
  const integrals = useBacklog ? trace.grantedDuringBacklog : trace.grantedTotal;
  for (const [r, cap] of Object.entries(trace.capacity)) {
    if (cap <= 0) continue;
    utilization[r] = span > 0 ? (integrals[r] ?? 0) / (cap * span) : 0;
  }
  const makespan = Number.isFinite(first) ? Math.max(0, last - first) : 0;
  const overallUtilization: Record<string, number> = {};
  const heldUnused: Record<string, number> = {};
  for (const [r, cap] of Object.entries(trace.capacity)) {
    if (cap <= 0) continue;
    overallUtilization[r] = makespan > 0 ? (trace.grantedTotal[r] ?? 0) / (cap * makespan) : 0;
    heldUnused[r] = makespan > 0 ? (trace.heldTotal[r] ?? 0) / (cap * makespan) : 0;
  }
  const abs = estimateErrors.map(Math.abs).sort((a, b) => a - b);
  const priorities = [...byPriority.keys()].sort((a, b) => a - b);
  return {
    policy: trace.policy,
    makespanSeconds: Number.isFinite(first) ? Math.max(0, last - first) : 0,
    utilization,
    waitSeconds: {
      all: waitStats(all),
      byBand: { high: waitStats(bands.high), mid: waitStats(bands.mid), low: waitStats(bands.low) },
      byPriority: Object.fromEntries(priorities.map((p) => [String(p), waitStats(byPriority.get(p) ?? [])])),
    },
    weightedCompletionSeconds: weights > 0 ? weighted / weights : 0,
    reducedGrants: trace.counters.reducedGrants,
    shards: trace.counters.shards,
    partialCompletions: trace.counters.partialCompletions,
    overcommitEvents: trace.counters.overcommitEvents,
    shardedStages: trace.counters.shardedStages,
    degradations: trace.counters.degradations,
    unstartedStages: unstarted,
    backlogSeconds: trace.backlogSeconds,
    starvationBoundSeconds: Number.isFinite(trace.starvationBoundSeconds)
      ? trace.starvationBoundSeconds
      : null,
    waitEstimate: {
      count: abs.length,
      meanAbsErrorSeconds: abs.length === 0 ? 0 : abs.reduce((a, b) => a + b, 0) / abs.length,
      p50AbsErrorSeconds: percentileSorted(abs, 50),
      p95AbsErrorSeconds: percentileSorted(abs, 95),
      meanErrorSeconds:
        estimateErrors.length === 0 ? 0 : estimateErrors.reduce((a, b) => a + b, 0) / estimateErrors.length,
    },
    cycles: trace.counters.cycles,
    overallUtilization,
    boundedSlowdown: {
      thresholdSeconds: SLOWDOWN_THRESHOLD_SECONDS,
      all: mean(slowdowns),
      byBand: {
        high: mean(bandSlowdowns.high),
        mid: mean(bandSlowdowns.mid),
        low: mean(bandSlowdowns.low),
      },
    },
    holds: {
      holderChanges: trace.holdStats.holderChanges,
      switchesWhileWaiting: trace.holdStats.switchesWhileWaiting,
      heldUnused,
    },
  };
}
