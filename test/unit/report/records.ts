/** A builder of execution records for the report's table-driven tests: times in seconds from 0. */
import type { ExecutionRecord } from '../../../src/execution/record';

/** `t` seconds as a date (the origin of these tests is the epoch). */
export function at(t: number): Date {
  return new Date(t * 1000);
}

/** The fields a test usually sets, times as seconds. */
export interface RecordSpec {
  readonly workflowId?: string;
  readonly definitionName?: string;
  readonly stageId?: string;
  readonly shardIndex?: number | null;
  readonly priority?: number;
  readonly nodeId?: string | null;
  readonly granted?: Record<string, number> | null;
  readonly desired?: Record<string, number>;
  readonly reduced?: boolean;
  readonly shrinks?: number;
  readonly requested?: number;
  readonly grantedAt?: number | null;
  readonly started?: number | null;
  readonly ended?: number;
  readonly estimatedStart?: number | null;
  readonly expectedSeconds?: number | null;
  readonly predictedSeconds?: number | null;
  readonly predictedSource?: ExecutionRecord['predictedSource'];
  readonly outcome?: ExecutionRecord['outcome'];
  readonly attempt?: number;
}

/** An execution record: `s` (p5, cpu 1 on n1) requested at 0, started at `started`, ended at `ended`. */
export function rec(spec: RecordSpec = {}): ExecutionRecord {
  const started = spec.started === undefined ? 0 : spec.started;
  const desired = spec.desired ?? { cpu: 1 };
  return {
    workflowId: spec.workflowId ?? 'w1',
    runId: null,
    definitionName: spec.definitionName ?? 'etl',
    definitionVersion: 1,
    stageId: spec.stageId ?? 's',
    shardIndex: spec.shardIndex ?? null,
    handler: 'qm.sleep',
    attempt: spec.attempt ?? 1,
    priority: spec.priority ?? 5,
    importance: 0,
    desired,
    minimum: desired,
    granted: spec.granted === undefined ? desired : spec.granted,
    reduced: spec.reduced ?? false,
    shrinks: spec.shrinks ?? 0,
    nodeId: spec.nodeId === undefined ? 'n1' : spec.nodeId,
    expectedSeconds: spec.expectedSeconds ?? null,
    predictedSeconds: spec.predictedSeconds ?? spec.expectedSeconds ?? null,
    predictedSource:
      spec.predictedSource ??
      (spec.predictedSeconds == null && spec.expectedSeconds != null ? 'declared' : null),
    requestedAt: at(spec.requested ?? 0),
    grantedAt:
      spec.grantedAt === undefined
        ? started === null
          ? null
          : at(started)
        : spec.grantedAt === null
          ? null
          : at(spec.grantedAt),
    startedAt: started === null ? null : at(started),
    endedAt: at(spec.ended ?? (started ?? 0) + 10),
    estimatedStartAt: spec.estimatedStart == null ? null : at(spec.estimatedStart),
    outcome: spec.outcome ?? 'completed',
  };
}
