/**
 * The discrete-event simulator: the production scheduling core (the scheduling cycle in its incremental
 * form, `IncrementalCycle`, which decides as `runCycle` does; `degrade`, the shard planner inside the
 * cycle, `estimateStarts`) on a virtual clock. No Temporal, no PostgreSQL, no wall clock.
 *
 * The loop: take the earliest events (submissions, completions, boost changes, scheduler ticks), apply
 * them, then run a scheduling round like the scheduler workflow does on a wake: a cycle over a snapshot
 * of the simulated ledger, commit its grants and shard decisions; new shard requests get another cycle at
 * once; under `quartermaster` the top blocked request gets shrink offers (`degrade`), which the simulated
 * handlers acknowledge at once. While anything waits, a tick runs a cycle every `tickSeconds` (production's
 * scheduler tick), so aging and moving forecasts take effect.
 *
 * Run times: `durations` are seconds at the desired allocation; a stage progresses at the rate
 * `granted cpu / desired cpu` (a reduced grant or a shrink stretches it in proportion); a shard's run time
 * is the stage's times its item share. Stages without resources start the moment they are ready.
 */
import type { NormalisedStageDefinition } from '../definition/types';
import {
  degrade,
  estimateStarts,
  type ClusterSnapshot,
  type NodeView,
  type PendingRequest,
  type PoolView,
  type RunningGrant,
  type ResourceVector,
  type SchedulerOptions,
  type ShardDecision,
  type ShardRequestSpec,
} from '../scheduling';
import { cpuRate } from '../scheduling/runtime';
import { HOST_RESOURCE_NAMES } from '../scheduling/types';
import { shardShare } from '../sharding/slices';
import type { CycleChanges } from '../scheduling/incremental-types';
import { BackgroundMonitor } from './background';
import { CoreFeed } from './core-feed';
import type { ExpectedSource } from '../execution/learned';
import type { ExecutionRecord } from '../execution/record';
import { InvalidSimulationOptionError } from './errors';
import { isRunTimeMode, LearnedHistory, RUN_TIME_MODES, stageKey, type RunTimeMode } from './learned-history';
import { EventQueue } from './event-queue';
import { policyByName, requestForPolicy, type Policy } from './policies';
import type { PipelineRecord, RunRecord, SimulationTrace, StageRecord } from './trace';
import type { Workload, WorkloadBoost, WorkloadSubmission } from './workload';

/** Options of {@link simulate}; all optional. */
export interface SimulateOptions {
  /** `quartermaster`, `fifo` or `priority`. @default 'quartermaster' */
  policy?: string;
  /** Scheduler options for `quartermaster` (weights, holds, margin). @default {} */
  scheduler?: SchedulerOptions;
  /** Seconds between scheduler ticks while something waits; `Infinity` runs cycles on events only. @default 5 */
  tickSeconds?: number;
  /** Seconds between background samples fed to the forecaster. @default 1 */
  sampleIntervalSeconds?: number;
  /** Forecast horizon the core plans on, seconds (1–10). @default 10 */
  forecastHorizonSeconds?: number;
  /**
   * Seconds from a stage becoming ready (or a shard being created) to its request reaching the scheduler
   * (a real deployment's workflow task and request activity); its age counts from then. @default 0
   */
  requestLatencySeconds?: number;
  /**
   * Seconds from a grant to its stage actually running (the decision's signal, the activity's dispatch to
   * the node): the capacity is held meanwhile. Models a real deployment's admission round trips. @default 0
   */
  startLatencySeconds?: number;
  /**
   * Seconds from a stage's work ending to its capacity returning and its dependents becoming ready (the
   * activity's completion, the release, the next request). @default 0
   */
  releaseLatencySeconds?: number;
  /** Estimate start times for at most this many waiting requests per estimate; 0 disables. @default 200 */
  estimateLimit?: number;
  /** Record executions and utilisation steps (for the HTML report); off for huge runs. @default true */
  recordTimeline?: boolean;
  /**
   * Where the run times the scheduler is told come from (see {@link RunTimeMode}): `declared` (each stage's
   * `expectedSeconds` from the workload), `none` (no stage declares one), or `learned` (no stage declares
   * one; each request is told its stage key's learned estimate from `learnedFrom` and the runs this
   * simulation has completed before the request was made, with the ledger's estimator). @default 'declared'
   */
  runTimes?: RunTimeMode;
  /**
   * With `runTimes: 'learned'`: the history learned estimates start from, e.g. the records of a warm-up run
   * (`toExecutionRecords(trace).records`); keys are (definition name, stage id, handler). @default []
   */
  learnedFrom?: readonly ExecutionRecord[];
  /** Called every `progressEvery` events with the virtual time and pipelines completed. */
  onProgress?: (progress: { t: number; completedPipelines: number; totalPipelines: number }) => void;
  /** Events between progress calls. @default 10000 */
  progressEvery?: number;
}

type SimEvent =
  | { readonly kind: 'submit'; readonly index: number; readonly submission: WorkloadSubmission }
  | { readonly kind: 'complete'; readonly key: string; readonly version: number }
  | { readonly kind: 'request'; readonly entry: PendingEntry }
  | { readonly kind: 'wake' }
  | { readonly kind: 'tick' };

interface PipelineState {
  readonly record: PipelineRecord;
  readonly workflowId: string;
  readonly importance: number;
  readonly boosts: readonly WorkloadBoost[];
  stagesLeft: number;
}

interface StageState {
  readonly def: NormalisedStageDefinition;
  readonly record: StageRecord;
  readonly pipeline: PipelineState;
  readonly dependents: StageState[];
  readonly workSeconds: number;
  /** What the scheduler is told the run takes at desired when declared; Infinity when it declares none. */
  readonly expectedSeconds: number;
  readonly key: string;
  /** Its stage key for learned estimates (definition name, stage id, handler). */
  readonly learnKey: string;
  depsLeft: number;
  shardsLeft: number;
}

interface PendingEntry {
  readonly request: PendingRequest;
  readonly stage: StageState;
  readonly workSeconds: number;
  readonly expectedSeconds: number;
  /** Where `expectedSeconds` came from; `null` when the scheduler is told none. */
  readonly expectedSource: ExpectedSource | null;
  /** The request as the policy shows it, built once when its pipeline has no boosts (importance fixed). */
  shown?: PendingRequest;
}

interface RunningEntry {
  readonly key: string;
  readonly stage: StageState;
  readonly nodeId: string | null;
  readonly shardIndex: number | null;
  readonly desired: ResourceVector;
  readonly minimum: ResourceVector;
  granted: ResourceVector;
  /** Work left, seconds at the desired allocation. */
  remaining: number;
  /** Work the scheduler believes is left. */
  expectedRemaining: number;
  rate: number;
  lastT: number;
  /** When it started running (its grant plus the start latency), seconds. */
  readonly startedAt: number;
  version: number;
  /** Its execution record; null when the timeline is not recorded. */
  readonly exec: RunRecord | null;
}

const HOST = new Set<string>(HOST_RESOURCE_NAMES);
/** Scheduling rounds stop after this many cycles at one instant (shard requests, shrink offers). */
const MAX_CYCLES_PER_ROUND = 8;

function nonNegativeOption(field: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value))
    throw new InvalidSimulationOptionError(field, value, 'must be a finite number >= 0');
  return value;
}

function positiveOption(field: string, value: number, allowInfinity: boolean): number {
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value)) || Number.isNaN(value)) {
    throw new InvalidSimulationOptionError(
      field,
      value,
      `must be a number > 0${allowInfinity ? '' : ' and finite'}`,
    );
  }
  return value;
}

function shardSpecOf(def: NormalisedStageDefinition): ShardRequestSpec | undefined {
  const s = def.shard;
  if (s === undefined) return undefined;
  let itemCount: number | undefined;
  if (s.by === 'items' && s.field !== undefined && typeof def.input === 'object' && def.input !== null) {
    const items = (def.input as Record<string, unknown>)[s.field];
    if (Array.isArray(items)) itemCount = items.length;
  }
  const maxShards = s.by === 'count' && s.count !== undefined ? Math.min(s.maxShards, s.count) : s.maxShards;
  return {
    maxShards,
    ...(itemCount === undefined ? {} : { itemCount }),
    ...(s.minItemsPerShard === undefined ? {} : { minItemsPerShard: s.minItemsPerShard }),
    ...(s.resources?.minimum === undefined ? {} : { perShardFloor: s.resources.minimum }),
  };
}

/**
 * Simulates `workload` under one policy.
 * @returns the trace (see {@link SimulationTrace}); summarise it with `computeMetrics`.
 * @throws UnknownPolicyError; InvalidSchedulerOptionError; InvalidSimulationOptionError for a bad option
 *   (e.g. an unknown `runTimes`, or `learnedFrom` without `runTimes: 'learned'`); InvalidSampleError for a
 *   `learnedFrom` record with a negative run time.
 */
export function simulate(workload: Workload, options: SimulateOptions = {}): SimulationTrace {
  return simulateSubmissions(workload, workload.submissions, options);
}

/**
 * Simulates a stream of submissions (in non-decreasing `at`; an earlier one is submitted late, at the
 * current time) on `setup`'s cluster and background. Submissions are pulled one at a time, when the
 * previous one is submitted, so a long log is never held whole (e.g. `swfSubmissions`).
 * @throws as {@link simulate}.
 */
export function simulateSubmissions(
  setup: Pick<Workload, 'cluster' | 'background'>,
  submissions: Iterable<WorkloadSubmission>,
  options: SimulateOptions = {},
): SimulationTrace {
  const workload = setup;
  const policy: Policy = policyByName(options.policy ?? 'quartermaster', options.scheduler ?? {});
  const tickSeconds = positiveOption('tickSeconds', options.tickSeconds ?? 5, true);
  const sampleInterval = positiveOption('sampleIntervalSeconds', options.sampleIntervalSeconds ?? 1, false);
  const horizon = options.forecastHorizonSeconds ?? 10;
  if (!(horizon >= 1 && horizon <= 10))
    throw new InvalidSimulationOptionError('forecastHorizonSeconds', horizon, 'must be 1–10');
  const requestLatency = nonNegativeOption('requestLatencySeconds', options.requestLatencySeconds ?? 0);
  const startLatency = nonNegativeOption('startLatencySeconds', options.startLatencySeconds ?? 0);
  const releaseLatency = nonNegativeOption('releaseLatencySeconds', options.releaseLatencySeconds ?? 0);
  const estimateLimit = options.estimateLimit ?? 200;
  if (!Number.isInteger(estimateLimit) || estimateLimit < 0)
    throw new InvalidSimulationOptionError('estimateLimit', estimateLimit, 'must be an integer >= 0');
  const recordTimeline = options.recordTimeline ?? true;
  const runTimes: unknown = options.runTimes ?? 'declared';
  if (!isRunTimeMode(runTimes))
    throw new InvalidSimulationOptionError(
      'runTimes',
      runTimes,
      `must be one of ${RUN_TIME_MODES.join(', ')}`,
    );
  if (options.learnedFrom !== undefined) {
    if (!Array.isArray(options.learnedFrom))
      throw new InvalidSimulationOptionError(
        'learnedFrom',
        options.learnedFrom,
        'must be an array of records',
      );
    if (runTimes !== 'learned')
      throw new InvalidSimulationOptionError('learnedFrom', '[…]', "is only read with runTimes 'learned'");
  }
  // The simulated qm_run_estimates: only a learned run keeps one.
  const history = runTimes === 'learned' ? LearnedHistory.fromRecords(options.learnedFrom ?? []) : null;
  const progressEvery = options.progressEvery ?? 10_000;

  // ── the simulated ledger ──
  const nodes = workload.cluster.nodes;
  const nodeGranted = new Map<string, ResourceVector>(nodes.map((n) => [n.id, {}]));
  const poolGranted: ResourceVector = {};
  const totalGranted: ResourceVector = {};
  const capacity: Record<string, number> = {};
  for (const n of nodes)
    for (const [r, v] of Object.entries(n.capacity)) capacity[r] = (capacity[r] ?? 0) + v;
  for (const [r, v] of Object.entries(workload.cluster.pools)) capacity[r] = v;
  const monitors = new Map<string, BackgroundMonitor>();
  let lastBackgroundChange = 0;
  for (const n of nodes) {
    const series = workload.background[n.id];
    if (series === undefined || Object.keys(series).length === 0) continue;
    monitors.set(n.id, new BackgroundMonitor(n, series, sampleInterval, horizon));
    for (const s of Object.values(series)) {
      const last = s[s.length - 1];
      if (last !== undefined) lastBackgroundChange = Math.max(lastBackgroundChange, last[0]);
    }
  }

  const trace: SimulationTrace = {
    policy: policy.name,
    capacity,
    nodeIds: nodes.map((n) => n.id),
    nodeCapacity: Object.fromEntries(nodes.map((n) => [n.id, { ...n.capacity }])),
    stages: [],
    executions: [],
    nodeSamples: [],
    pipelines: [],
    utilization: [],
    backlogSeconds: 0,
    grantedDuringBacklog: {},
    grantedTotal: {},
    heldTotal: {},
    holdStats: { holderChanges: 0, switchesWhileWaiting: 0 },
    counters: {
      cycles: 0,
      reducedGrants: 0,
      shardedStages: 0,
      shards: 0,
      degradations: 0,
      overcommitEvents: 0,
      partialCompletions: 0,
    },
    endedAt: 0,
    starvationBoundSeconds: policy.config.starvationBoundSeconds,
  };

  const queue = new EventQueue<SimEvent>();
  const pending = new Map<string, PendingEntry>();
  const running = new Map<string, RunningEntry>();
  const estimated = new Set<string>();
  // Pending stages (not shards) never estimated yet: the next estimate marks them.
  const unestimated = new Set<string>();
  // The cycle's state, fed what changes (see CoreFeed); pending entries of boosted pipelines, with the
  // importance the core was last given.
  const feed = new CoreFeed(policy.config);
  const boosted = new Map<string, { entry: PendingEntry; importance: number }>();
  // Holds of the last cycle: their keys (passed to the next cycle: stable holds) and what they keep free.
  let holders: string[] = [];
  let heldNow: Record<string, number> = {};
  let sequence = 0; // arrival order of requests (ties between equal readySince)
  let nonTickEvents = 0;
  let tickQueued = false;
  let completedPipelines = 0;
  let totalPipelines = 0;

  const push = (time: number, ev: SimEvent): void => {
    if (ev.kind !== 'tick') nonTickEvents++;
    queue.push(time, ev);
  };

  const source = submissions[Symbol.iterator]();
  let lastT = 0;
  const pullSubmission = (): void => {
    const next = source.next();
    if (next.done === true) return;
    const s = next.value;
    push(Math.max(lastT, s.at), { kind: 'submit', index: totalPipelines++, submission: s });
    for (const b of s.boosts) {
      push(Math.max(lastT, b.at), { kind: 'wake' });
      push(Math.max(lastT, b.at + b.ttlSeconds), { kind: 'wake' });
    }
  };
  pullSubmission();

  // ── ledger bookkeeping ──
  let ledgerVersion = 0; // bumped by every change of what is granted (the core is then given the nodes)
  let fedVersion = -1;
  let shrinkable = 0; // runs on a node holding more than their minimum (the only ones degrade can shrink)
  const canShrink = (e: RunningEntry): boolean => {
    if (e.nodeId === null) return false;
    for (const r in e.granted) if ((e.granted[r] ?? 0) > (e.minimum[r] ?? 0)) return true;
    return false;
  };
  const addGrant = (nodeId: string | null, v: Readonly<ResourceVector>, sign: 1 | -1): void => {
    ledgerVersion++;
    const row = nodeId === null ? undefined : nodeGranted.get(nodeId);
    for (const r in v) {
      const x = v[r] as number;
      if (x === 0) continue;
      if (HOST.has(r)) {
        if (row !== undefined) row[r] = (row[r] ?? 0) + sign * x;
        else continue;
      } else poolGranted[r] = (poolGranted[r] ?? 0) + sign * x;
      totalGranted[r] = (totalGranted[r] ?? 0) + sign * x;
    }
  };
  const checkOvercommit = (): void => {
    for (const n of nodes) {
      const row = nodeGranted.get(n.id) as ResourceVector;
      for (const r in row) {
        const g = row[r] as number;
        if (g > (n.capacity[r] ?? 0) + 1e-6) trace.counters.overcommitEvents++;
      }
    }
    for (const r in poolGranted) {
      const g = poolGranted[r] as number;
      if (g > (workload.cluster.pools[r] ?? 0) + 1e-6) trace.counters.overcommitEvents++;
    }
  };
  const clamp = (v: Readonly<ResourceVector>): ResourceVector => {
    const out: ResourceVector = {};
    for (const [r, x] of Object.entries(v)) out[r] = x > 0 ? x : 0;
    return out;
  };
  const importanceAt = (p: PipelineState, t: number): number => {
    let total = p.importance;
    for (const b of p.boosts) if (b.at <= t && t < b.at + b.ttlSeconds) total += b.amount;
    return total;
  };

  // ── stages ──
  const completeStage = (stage: StageState, t: number): void => {
    stage.record.completedAt = t;
    const p = stage.pipeline;
    p.stagesLeft--;
    if (p.stagesLeft === 0) {
      p.record.completedAt = t;
      completedPipelines++;
    }
    for (const d of stage.dependents) {
      d.depsLeft--;
      if (d.depsLeft === 0) makeReady(d, t);
    }
  };
  const startRun = (
    key: string,
    stage: StageState,
    nodeId: string | null,
    shardIndex: number | null,
    desired: ResourceVector,
    minimum: ResourceVector,
    granted: ResourceVector,
    work: number,
    expected: number,
    expectedSource: ExpectedSource | null,
    reduced: boolean,
    t: number,
    requestedAt: number,
  ): void => {
    addGrant(nodeId, granted, 1);
    const rate = cpuRate(granted, desired);
    const exec: RunRecord | null = !recordTimeline
      ? null
      : {
          key,
          submission: stage.record.submission,
          workflowId: stage.pipeline.workflowId,
          definitionName: stage.pipeline.record.name,
          stageId: stage.def.id,
          handler: stage.def.handler,
          shardIndex,
          nodeId,
          priority: stage.def.priority,
          importance: importanceAt(stage.pipeline, t),
          desired: { ...desired },
          minimum: { ...minimum },
          granted: { ...granted },
          requestedAt,
          grantedAt: t,
          startedAt: t + startLatency,
          completedAt: null,
          expectedSeconds: Number.isFinite(expected) ? expected : null,
          expectedSource: Number.isFinite(expected) ? expectedSource : null,
          // The stage's estimate belongs to its first run only (as `computeMetrics` counts it once per stage).
          estimatedStartAt: stage.record.startedAt === null ? stage.record.estimatedStartAt : null,
          reduced,
          cpu: granted.cpu ?? 0,
          shrinks: [],
        };
    if (exec !== null) trace.executions.push(exec);
    const entry: RunningEntry = {
      key,
      stage,
      nodeId,
      shardIndex,
      desired,
      minimum,
      granted,
      remaining: work,
      expectedRemaining: expected,
      rate,
      lastT: t + startLatency,
      startedAt: t + startLatency,
      version: 0,
      exec,
    };
    running.set(key, entry);
    if (canShrink(entry)) shrinkable++;
    if (nodeId !== null) feed.run(runningGrant(entry, t));
    if (stage.record.startedAt === null) stage.record.startedAt = t + startLatency;
    push(t + startLatency + work / rate + releaseLatency, { kind: 'complete', key, version: 0 });
  };
  /** A request reaches the scheduler `requestLatency` after `t` (at once without one). */
  function enqueue(t: number, entry: PendingEntry): void {
    if (requestLatency === 0) addPending(entry, t);
    else push(t + requestLatency, { kind: 'request', entry });
  }
  /** What the scheduler is told `stage` runs at desired when it becomes ready, and where that comes from. */
  function predict(stage: StageState): { seconds: number; source: ExpectedSource | null } {
    if (history !== null) {
      const learned = history.estimate(stage.learnKey);
      return learned === null
        ? { seconds: Infinity, source: null }
        : { seconds: learned.seconds, source: 'learned' };
    }
    return Number.isFinite(stage.expectedSeconds)
      ? { seconds: stage.expectedSeconds, source: 'declared' }
      : { seconds: Infinity, source: null };
  }
  function makeReady(stage: StageState, t: number): void {
    stage.record.readyAt = t;
    const expected = predict(stage);
    const desired = stage.def.resources?.desired ?? {};
    const minimum = stage.def.resources?.minimum ?? desired;
    if (Object.values(desired).every((v) => v === 0)) {
      // Production admits a stage without resources at once, on the workflow's own task queue.
      startRun(
        stage.key,
        stage,
        null,
        null,
        desired,
        minimum,
        {},
        stage.workSeconds,
        expected.seconds,
        expected.source,
        false,
        t,
        t,
      );
      return;
    }
    const shard = shardSpecOf(stage.def);
    enqueue(t, {
      request: {
        key: stage.key,
        workflowId: stage.pipeline.workflowId,
        stageId: stage.def.id,
        shardIndex: null,
        priority: stage.def.priority,
        importance: 0,
        desired,
        minimum,
        readySince: new Date((t + requestLatency) * 1000),
        sequence: sequence++,
        ...(shard === undefined ? {} : { shard }),
        ...(Number.isFinite(expected.seconds) ? { expectedSeconds: expected.seconds } : {}),
      },
      stage,
      workSeconds: stage.workSeconds,
      expectedSeconds: expected.seconds,
      expectedSource: expected.source,
    });
  }
  const submit = (index: number, s: WorkloadSubmission, t: number): void => {
    const def = s.definition;
    const record: PipelineRecord = {
      submission: index,
      name: def.name,
      submittedAt: t,
      completedAt: null,
      weight: Math.max(...def.stages.map((st) => st.priority)),
    };
    trace.pipelines.push(record);
    const pipeline: PipelineState = {
      record,
      workflowId: `s${index}-${def.name}`,
      importance: def.importance,
      boosts: s.boosts,
      stagesLeft: def.stages.length,
    };
    const byId = new Map<string, StageState>();
    const states = def.stages.map((st) => {
      const stageRecord: StageRecord = {
        submission: index,
        job: s.jobId ?? index,
        cpu: st.resources?.desired.cpu ?? 0,
        pipeline: def.name,
        stageId: st.id,
        priority: st.priority,
        readyAt: null,
        startedAt: null,
        completedAt: null,
        estimatedStartAt: null,
        shards: 0,
      };
      trace.stages.push(stageRecord);
      const state: StageState = {
        def: st,
        record: stageRecord,
        pipeline,
        dependents: [],
        workSeconds: s.durations[st.id] ?? 0,
        // Unknown (no estimate given, or run times not declared in this run): Infinity, never told.
        expectedSeconds: runTimes === 'declared' ? (s.expectedSeconds[st.id] ?? Infinity) : Infinity,
        key: `${pipeline.workflowId}/${st.id}`,
        learnKey: stageKey(def.name, st.id, st.handler),
        depsLeft: st.dependsOn.length,
        shardsLeft: 0,
      };
      byId.set(st.id, state);
      return state;
    });
    for (const st of states) for (const d of st.def.dependsOn) byId.get(d)?.dependents.push(st);
    for (const st of states) if (st.depsLeft === 0) makeReady(st, t);
  };
  const complete = (key: string, version: number, t: number): void => {
    const e = running.get(key);
    if (e === undefined || e.version !== version) return;
    running.delete(key);
    if (canShrink(e)) shrinkable--;
    if (e.nodeId !== null) feed.end(key);
    addGrant(e.nodeId, e.granted, -1);
    if (e.exec !== null) e.exec.completedAt = t;
    // A completed unsharded run refreshes its key's learned estimate (production: the release that records it).
    if (history !== null && e.shardIndex === null && e.nodeId !== null)
      history.add(e.stage.learnKey, { runSeconds: t - e.startedAt, granted: e.granted, desired: e.desired });
    if (e.shardIndex === null) completeStage(e.stage, t);
    else {
      e.stage.shardsLeft--;
      if (e.stage.shardsLeft === 0) completeStage(e.stage, t);
    }
  };
  /** Advances a run's work to `t` (nothing before it has started: a start latency may still be running). */
  const progressTo = (e: RunningEntry, t: number): void => {
    const dt = Math.max(0, t - e.lastT);
    e.remaining = Math.max(0, e.remaining - dt * e.rate);
    e.expectedRemaining = Math.max(0, e.expectedRemaining - dt * e.rate);
    e.lastT = Math.max(t, e.lastT);
  };

  // ── scheduling ──
  /** The request the cycle sees at `t`: the policy's view, with the pipeline's importance then. */
  const shownRequest = (e: PendingEntry, t: number): PendingRequest => {
    if (e.shown !== undefined) return e.shown;
    const shown = requestForPolicy(policy, { ...e.request, importance: importanceAt(e.stage.pipeline, t) });
    // Without boosts the importance never changes: no copy per cycle.
    if (e.stage.pipeline.boosts.length === 0) e.shown = shown;
    return shown;
  };
  const lastSampleAt = new Map<string, number>();
  /** Records a node's usage (background + grants) and the forecast the core is given, once per instant. */
  const noteSample = (
    monitor: BackgroundMonitor,
    granted: Readonly<ResourceVector>,
    forecast: NonNullable<ReturnType<BackgroundMonitor['forecastUsage']>>,
    t: number,
  ): void => {
    const id = monitor.node.id;
    if ((lastSampleAt.get(id) ?? -1) >= t) return;
    lastSampleAt.set(id, t);
    const used: Record<string, number> = {};
    const predicted: Record<string, number> = {};
    for (const [metric, f] of Object.entries(forecast)) {
      if (f === undefined) continue;
      used[metric] = monitor.usageAt(metric, t) + (granted[metric] ?? 0);
      predicted[metric] = f.value;
    }
    trace.nodeSamples.push({ t, nodeId: id, used, forecast: predicted, horizonSeconds: horizon });
  };
  /** The nodes as the core sees them at `t` (granted so far, the background forecast). */
  const nodeViewsAt = (t: number): NodeView[] => {
    for (const m of monitors.values()) m.advance(t);
    return nodes.map((n) => {
      const granted = clamp(nodeGranted.get(n.id) as ResourceVector);
      const monitor = monitors.get(n.id);
      const forecast = monitor?.forecastUsage(granted);
      if (recordTimeline && monitor !== undefined && forecast !== undefined)
        noteSample(monitor, granted, forecast, t);
      return {
        id: n.id,
        taskQueue: `qm-${n.id}`,
        capacity: n.capacity,
        granted,
        stale: false,
        ...(forecast === undefined ? {} : { forecastUsage: forecast }),
      };
    });
  };
  const poolViews = (): PoolView[] =>
    Object.entries(workload.cluster.pools).map(([name, cap]) => ({
      name,
      capacity: cap,
      granted: Math.max(0, poolGranted[name] ?? 0),
    }));
  /**
   * A run as a running grant at `t`. With `clamp` an end already past is `t` (as the ledger reports it);
   * without, it is kept: the cycle counts an end already past as now, the same instant to the millisecond.
   */
  function runningGrant(e: RunningEntry, t: number, clamp = false): RunningGrant {
    const expected = e.lastT + e.expectedRemaining / e.rate;
    const end = clamp ? Math.max(t, expected) : expected;
    return {
      key: e.key,
      nodeId: e.nodeId as string,
      granted: e.granted,
      minimum: e.minimum,
      desired: e.desired,
      priority: e.stage.def.priority,
      importance: importanceAt(e.stage.pipeline, t),
      ...(Number.isFinite(end) ? { expectedEndAt: new Date(end * 1000) } : {}),
    };
  }
  /** The whole simulated ledger at `t` (for `degrade` and start estimates). */
  const snapshotAt = (t: number, only?: readonly string[]): ClusterSnapshot => {
    const entries =
      only === undefined ? [...pending.values()] : only.map((k) => pending.get(k) as PendingEntry);
    return {
      nodes: nodeViewsAt(t),
      pools: poolViews(),
      pending: entries.map((e) => shownRequest(e, t)),
      running: [...running.values()].filter((e) => e.nodeId !== null).map((e) => runningGrant(e, t, true)),
      ...(holders.length > 0 ? { holders } : {}),
    };
  };
  /** A request reaches the scheduler at `t`. */
  function addPending(entry: PendingEntry, t: number): void {
    const key = entry.request.key;
    pending.set(key, entry);
    const shown = shownRequest(entry, t);
    feed.add(shown);
    if (entry.stage.pipeline.boosts.length > 0) boosted.set(key, { entry, importance: shown.importance });
    if (estimateLimit > 0 && entry.request.shardIndex === null && !estimated.has(key)) unestimated.add(key);
  }
  /** A request leaves (granted or sharded). */
  function removePending(key: string): void {
    pending.delete(key);
    feed.remove(key);
    boosted.delete(key);
    unestimated.delete(key);
  }
  /** Boosts start and expire: the core is told the importances that changed by `t`. */
  const refreshBoosts = (t: number): void => {
    for (const b of boosted.values()) {
      const importance = importanceAt(b.entry.stage.pipeline, t);
      if (importance === b.importance) continue;
      b.importance = importance;
      feed.update(shownRequest(b.entry, t));
    }
  };
  const applyShard = (d: ShardDecision, entry: PendingEntry, t: number): void => {
    const stage = entry.stage;
    trace.counters.shardedStages++;
    trace.counters.shards += d.shardCount;
    stage.record.shards = d.shardCount;
    stage.shardsLeft = d.shardCount;
    if (d.shardCount === 0) {
      completeStage(stage, t);
      return;
    }
    const spec = entry.request.shard;
    const floor = spec?.perShardFloor ?? {};
    const minimum: ResourceVector = {};
    for (const [r, v] of Object.entries(d.perShard)) minimum[r] = Math.min(v, floor[r] ?? v);
    // As in production, a shard never uses its stage's learned time (a shard is a slice of the work, and
    // learned times are made of whole runs); a declared time is shared out.
    const stageExpected = entry.expectedSource === 'learned' ? Infinity : entry.expectedSeconds;
    const stageSource = entry.expectedSource === 'learned' ? null : entry.expectedSource;
    for (let i = 0; i < d.shardCount; i++) {
      const share = shardShare(d.shardCount, i, spec?.itemCount);
      const key = `${entry.request.key}#${i}`;
      enqueue(t, {
        request: {
          key,
          workflowId: entry.request.workflowId,
          stageId: entry.request.stageId,
          shardIndex: i,
          priority: entry.request.priority,
          importance: 0,
          desired: d.perShard,
          minimum,
          // Shards keep their stage's place: age from the stage's request, its arrival sequence.
          readySince: entry.request.readySince,
          ...(entry.request.sequence === undefined ? {} : { sequence: entry.request.sequence }),
          ...(Number.isFinite(stageExpected) ? { expectedSeconds: stageExpected * share } : {}),
        },
        stage,
        workSeconds: entry.workSeconds * share,
        expectedSeconds: stageExpected * share,
        expectedSource: stageSource,
      });
    }
  };
  /** Commits a cycle's grants and shard decisions. @returns whether new requests appeared (shards). */
  const commit = (result: CycleChanges, t: number): boolean => {
    let created = false;
    for (const d of result.decisions) {
      const entry = pending.get(d.key);
      if (entry === undefined || d.kind === 'wait') continue;
      removePending(d.key);
      if (d.kind === 'grant') {
        if (d.reduced) trace.counters.reducedGrants++;
        const r = entry.request;
        const desired = { ...r.desired };
        startRun(
          d.key,
          entry.stage,
          d.nodeId,
          r.shardIndex,
          desired,
          policy.reducedGrants ? { ...r.minimum } : desired,
          { ...d.granted },
          entry.workSeconds,
          entry.expectedSeconds,
          entry.expectedSource,
          d.reduced,
          t,
          r.readySince.getTime() / 1000,
        );
      } else {
        applyShard(d, entry, t);
        created = true;
      }
    }
    checkOvercommit();
    return created;
  };
  const applyShrinks = (snapshot: ClusterSnapshot, holder: string, t: number): boolean => {
    const proposal = degrade({
      snapshot,
      requestKey: holder,
      now: new Date(t * 1000),
      config: policy.config,
    });
    if (proposal === null || proposal.offers.length === 0) return false;
    for (const offer of proposal.offers) {
      const e = running.get(offer.key);
      if (e === undefined) continue;
      progressTo(e, t);
      const freed: ResourceVector = {};
      for (const [r, v] of Object.entries(e.granted)) freed[r] = v - (offer.to[r] ?? v);
      addGrant(e.nodeId, freed, -1);
      if (canShrink(e)) shrinkable--;
      e.granted = { ...e.granted, ...offer.to };
      if (canShrink(e)) shrinkable++;
      e.rate = cpuRate(e.granted, e.desired);
      e.version++;
      e.exec?.shrinks.push({ at: t, cpu: e.granted.cpu ?? 0 });
      if (e.exec !== null) e.exec.granted = { ...e.granted };
      push(e.lastT + e.remaining / e.rate + releaseLatency, {
        kind: 'complete',
        key: e.key,
        version: e.version,
      });
      trace.counters.degradations++;
      if (e.nodeId !== null) feed.run(runningGrant(e, t));
    }
    return true;
  };
  /**
   * Start estimates for the stages that wait for the first time (each is estimated once, when it first
   * waits): `estimateStarts` over the first `estimateLimit` waiting requests in rank order; the other new
   * ones get none. Reads only those requests, not the whole queue.
   */
  const estimate = (result: CycleChanges, t: number): void => {
    if (estimateLimit === 0 || unestimated.size === 0) return;
    const order = result.waitingKeys(estimateLimit);
    const starts = estimateStarts({
      snapshot: snapshotAt(t, order),
      now: new Date(t * 1000),
      order,
      config: policy.config,
      limit: estimateLimit,
    });
    for (const key of unestimated) {
      estimated.add(key);
      const start = starts.get(key);
      const e = pending.get(key);
      if (start !== undefined && start !== null && e !== undefined)
        e.stage.record.estimatedStartAt = start.getTime() / 1000;
    }
    unestimated.clear();
  };
  /** Records the cycle's holds: who holds now (hold statistics) and what is held free. */
  const noteHolds = (result: CycleChanges): void => {
    const now = result.holds.map((h) => h.key);
    for (const key of now) if (!holders.includes(key)) trace.holdStats.holderChanges++;
    for (const key of holders)
      if (!now.includes(key) && pending.has(key)) trace.holdStats.switchesWhileWaiting++;
    holders = now;
    heldNow = {};
    for (const h of result.holds)
      for (const [r, v] of Object.entries(h.held)) heldNow[r] = (heldNow[r] ?? 0) + v;
  };
  const round = (t: number): boolean => {
    let progressed = false;
    for (let i = 0; i < MAX_CYCLES_PER_ROUND && pending.size > 0; i++) {
      const before = pending.size;
      refreshBoosts(t);
      // Nodes and pools change with grants and releases, and with the forecasts when there is background.
      const ledgerChanged = ledgerVersion !== fedVersion || monitors.size > 0;
      fedVersion = ledgerVersion;
      const result = feed.cycle(
        new Date(t * 1000),
        ledgerChanged ? nodeViewsAt(t) : undefined,
        ledgerChanged ? poolViews() : undefined,
        holders,
      );
      trace.counters.cycles++;
      const created = commit(result, t);
      noteHolds(result);
      if (pending.size !== before || created) progressed = true;
      if (created) continue;
      if (policy.degradation) {
        const holder = result.decisions.find((d) => d.kind === 'wait' && d.hold !== undefined);
        if (
          holder !== undefined &&
          pending.has(holder.key) &&
          shrinkable > 0 &&
          applyShrinks(snapshotAt(t, [holder.key]), holder.key, t)
        ) {
          progressed = true;
          continue;
        }
      }
      estimate(result, t);
      break;
    }
    return progressed;
  };

  // ── the loop ──
  let events = 0;
  let nextProgress = progressEvery;
  const advance = (t: number): void => {
    const dt = t - lastT;
    if (dt > 0) {
      const backlog = pending.size > 0;
      if (backlog) trace.backlogSeconds += dt;
      for (const r in totalGranted) {
        const g = totalGranted[r] as number;
        const x = Math.max(0, g) * dt;
        trace.grantedTotal[r] = (trace.grantedTotal[r] ?? 0) + x;
        if (backlog) trace.grantedDuringBacklog[r] = (trace.grantedDuringBacklog[r] ?? 0) + x;
      }
      for (const r in heldNow) trace.heldTotal[r] = (trace.heldTotal[r] ?? 0) + (heldNow[r] as number) * dt;
    }
    lastT = t;
  };
  const recordUtilization = (t: number): void => {
    if (!recordTimeline) return;
    const granted: Record<string, number> = {};
    for (const [r, g] of Object.entries(totalGranted)) granted[r] = Math.max(0, g);
    const last = trace.utilization[trace.utilization.length - 1];
    const backlog = pending.size > 0;
    if (
      last !== undefined &&
      last.backlog === backlog &&
      Object.keys(granted).every((r) => Math.abs((last.granted[r] ?? 0) - (granted[r] ?? 0)) < 1e-9)
    )
      return;
    if (last !== undefined && last.t === t) trace.utilization.pop();
    trace.utilization.push({ t, granted, backlog });
  };

  for (;;) {
    const t = queue.peekTime();
    if (t === undefined) break;
    advance(t);
    while (queue.peekTime() === t) {
      const next = queue.pop();
      if (next === undefined) break;
      const ev = next.value;
      events++;
      if (ev.kind === 'tick') tickQueued = false;
      else nonTickEvents--;
      if (ev.kind === 'submit') {
        pullSubmission();
        submit(ev.index, ev.submission, t);
      } else if (ev.kind === 'complete') complete(ev.key, ev.version, t);
      else if (ev.kind === 'request') addPending(ev.entry, t);
    }
    const progressed = pending.size > 0 ? round(t) : false;
    if (pending.size === 0) {
      holders = [];
      heldNow = {};
    }
    recordUtilization(t);
    trace.endedAt = t;
    if (options.onProgress !== undefined && events >= nextProgress) {
      nextProgress = events + progressEvery;
      options.onProgress({ t, completedPipelines, totalPipelines });
    }
    if (pending.size > 0 && !tickQueued && Number.isFinite(tickSeconds)) {
      // Nothing else will ever happen and the background has settled: what still waits, waits for ever.
      const stuck =
        !progressed && nonTickEvents === 0 && running.size === 0 && t > lastBackgroundChange + 300;
      if (!stuck) {
        push(t + tickSeconds, { kind: 'tick' });
        tickQueued = true;
      }
    }
  }
  for (const e of running.values()) progressTo(e, trace.endedAt);
  return trace;
}
