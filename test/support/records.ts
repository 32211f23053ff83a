import type { ReservationRecord } from '../../src/ledger/types';

/**
 * A ledger reservation row for pure tests: pending, priority 5, importance 0, `{ cpu: 4 }` desired and
 * minimum, workflow `wf-<key>`, nothing granted or scored; `extra` overrides any field (`requestedAt` is
 * required: each test has its own clock).
 */
export function reservationRecord(
  key: string,
  extra: Partial<ReservationRecord> & Pick<ReservationRecord, 'requestedAt'>,
): ReservationRecord {
  return {
    key,
    workflowId: `wf-${key}`,
    runId: null,
    stageId: 's',
    shardIndex: null,
    priority: 5,
    importance: 0,
    desired: { cpu: 4 },
    minimum: { cpu: 4 },
    granted: null,
    nodeId: null,
    state: 'pending',
    leaseExpiresAt: null,
    grantedAt: null,
    endedAt: null,
    lastScore: null,
    scoreBreakdown: null,
    reason: null,
    shardSpec: null,
    expectedSeconds: null,
    shardOrder: null,
    avoidNode: null,
    seq: null,
    startedAt: null,
    definitionName: null,
    definitionVersion: null,
    handler: null,
    attempt: 1,
    shrinks: 0,
    estimatedStartAt: null,
    behind: null,
    promotedAt: null,
    ...extra,
  };
}
