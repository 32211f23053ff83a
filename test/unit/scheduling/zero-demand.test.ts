import { runCycle } from '../../../src/scheduling/cycle';
import { effectiveFree } from '../../../src/scheduling/model';
import type { ClusterSnapshot } from '../../../src/scheduling/types';

// A node whose monitor reports load on a resource it declares no capacity for (disk I/O here) — or an
// overloaded resource — must not block requests that do not ask for that resource.
const snapshot: ClusterSnapshot = {
  nodes: [
    {
      id: 'n1',
      taskQueue: 'q1',
      capacity: { cpu: 2, memoryMb: 1000 },
      granted: {},
      stale: false,
      forecastUsage: {
        cpu: { value: 0.1, upper: 0.2 },
        diskIoMBps: { value: 0.1, upper: 0.2 },
        netMbps: { value: 3, upper: 5 },
      },
    },
  ],
  pools: [],
  running: [],
  pending: [
    {
      key: 'r',
      workflowId: 'w',
      stageId: 's',
      shardIndex: null,
      priority: 5,
      importance: 0,
      desired: { cpu: 1, memoryMb: 256 },
      minimum: { cpu: 1, memoryMb: 256 },
      readySince: new Date(0),
    },
  ],
};

test('load on a resource the request does not need does not block it', () => {
  const { decisions } = runCycle(snapshot, new Date(1000));
  expect(decisions[0]).toMatchObject({ kind: 'grant', nodeId: 'n1', granted: { cpu: 1, memoryMb: 256 } });
});

test.each([
  [4, 1, undefined, 3],
  [4, 5, undefined, 0],
  [0, 0, { value: 0.1, upper: 0.2 }, 0],
  [4, 0, { value: 3, upper: 3.5 }, 0.5],
  [4, 0, { value: 3, upper: 4.5 }, 0],
])(
  'effectiveFree(capacity %d, granted %d, forecast %j) = %d (never below 0)',
  (capacity, granted, forecast, expected) => {
    expect(effectiveFree(capacity, granted, forecast, 0)).toBeCloseTo(expected, 9);
  },
);
