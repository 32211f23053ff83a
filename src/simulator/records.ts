/**
 * A simulated run as execution data: the same {@link ExecutionRecord}s the ledger writes, the nodes and
 * the simulated monitor's samples, so `qm report` draws a what-if run exactly as it draws a real one.
 */
import type { ExecutionRecord } from '../execution/record';
import type { NodeSample, ReportNode, ReportSection } from '../report/types';
import type { RunRecord, SimulationTrace } from './trace';

/** A simulation's execution data. */
export interface SimulationRecords {
  /** One record per run that ended (whole stage or shard), in start order. */
  readonly records: ExecutionRecord[];
  /** The simulated nodes with their capacities, in workload order. */
  readonly nodes: ReportNode[];
  /** Usage and forecast of nodes with background load (the only ones with a simulated monitor). */
  readonly samples: NodeSample[];
}

/** The simulation clock's second 0 as a date: the Unix epoch, as the simulator's own `Date`s use. */
export const SIMULATION_EPOCH = new Date(0);

function at(epoch: Date, seconds: number): Date {
  return new Date(epoch.getTime() + Math.round(seconds * 1000));
}

/**
 * One run as the ledger would record it (attempt 1, outcome `completed`: the model has no failures): the
 * declared `expectedSeconds` only when the run's prediction was declared; `predictedSeconds` what the
 * scheduler was told (a shard: its share), with its source. Never throws.
 * @returns `null` for a run that never ended.
 */
export function runToExecutionRecord(run: RunRecord, epoch: Date = SIMULATION_EPOCH): ExecutionRecord | null {
  if (run.completedAt === null) return null;
  const reduced =
    run.reduced || Object.entries(run.desired).some(([r, v]) => (run.granted[r] ?? 0) < v - 1e-9);
  return {
    workflowId: run.workflowId,
    runId: null,
    definitionName: run.definitionName,
    definitionVersion: null,
    stageId: run.stageId,
    shardIndex: run.shardIndex,
    handler: run.handler,
    attempt: 1,
    priority: run.priority,
    importance: run.importance,
    desired: { ...run.desired },
    minimum: { ...run.minimum },
    granted: { ...run.granted },
    reduced,
    shrinks: run.shrinks.length,
    nodeId: run.nodeId,
    expectedSeconds: run.expectedSource === 'declared' ? run.expectedSeconds : null,
    predictedSeconds: run.expectedSeconds,
    predictedSource: run.expectedSeconds === null ? null : run.expectedSource,
    requestedAt: at(epoch, run.requestedAt),
    grantedAt: at(epoch, run.grantedAt),
    startedAt: at(epoch, run.startedAt),
    endedAt: at(epoch, run.completedAt),
    estimatedStartAt: run.estimatedStartAt === null ? null : at(epoch, run.estimatedStartAt),
    outcome: 'completed',
  };
}

/**
 * The execution data of `trace`: a record per ended run (runs still going when an unfinished simulation
 * stopped are left out: a record is written when an attempt ends), the nodes, and one sample per node,
 * resource and instant (forecasts dated at the moment they predict).
 * @param epoch - the date of simulation second 0. @default SIMULATION_EPOCH
 * @returns the records (empty when the trace was recorded without a timeline). Never throws.
 */
export function toExecutionRecords(
  trace: SimulationTrace,
  epoch: Date = SIMULATION_EPOCH,
): SimulationRecords {
  const records = trace.executions
    .map((run) => runToExecutionRecord(run, epoch))
    .filter((r): r is ExecutionRecord => r !== null);
  const nodes = trace.nodeIds.map((id) => ({ id, capacity: { ...(trace.nodeCapacity[id] ?? {}) } }));
  const samples: NodeSample[] = [];
  for (const p of trace.nodeSamples) {
    for (const [resource, used] of Object.entries(p.used))
      samples.push({ nodeId: p.nodeId, at: at(epoch, p.t), resource, used, forecast: null });
    for (const [resource, forecast] of Object.entries(p.forecast))
      samples.push({
        nodeId: p.nodeId,
        at: at(epoch, p.t + p.horizonSeconds),
        resource,
        used: null,
        forecast,
      });
  }
  return { records, nodes, samples };
}

/** A report section of one simulated policy (see {@link toExecutionRecords}). */
export function simulationSection(trace: SimulationTrace, title: string = trace.policy): ReportSection {
  const data = toExecutionRecords(trace);
  return {
    title,
    records: data.records,
    nodes: data.nodes,
    samples: data.samples,
    note:
      `Policy ${trace.policy}. Used and forecast come from the simulated monitor of nodes with background ` +
      'load (used = background + grants; a simulated stage uses exactly its grant).',
  };
}
