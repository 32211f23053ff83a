import { formatJsonLine, wantsMetrics } from '../../../src/cli/runtime';

test.each([
  [['worker', '--metrics-port', '9464'], {}, true],
  [['worker', '--metrics-port=9464'], {}, true],
  [['dev', '--demo', '--metrics-port', '1'], {}, true],
  [['worker'], {}, false],
  [['queue', '--metrics-port', '1'], {}, false],
  [['worker'], { QM_METRICS_PORT: '9464' }, true],
  [['worker'], { QM_METRICS_PORT: ' ' }, false],
])('argv %p with env %p asks for the Runtime metrics: %p', (argv, env, expected) => {
  expect(wantsMetrics(argv, env)).toBe(expected);
});

test('QM_LOG_FORMAT=json: one object per line, meta fields never overwrite time, level and message', () => {
  const line = formatJsonLine({
    level: 'INFO',
    message: 'stage granted',
    timestampNanos: 1_700_000_000_123_000_000n,
    meta: { workflowId: 'wf-1', level: 'spoofed', n: 3n, error: new TypeError('bad') },
  });
  expect(line).not.toContain('\n');
  expect(JSON.parse(line)).toEqual({
    time: '2023-11-14T22:13:20.123Z',
    level: 'INFO',
    message: 'stage granted',
    workflowId: 'wf-1',
    n: '3',
    error: { name: 'TypeError', message: 'bad' },
  });
});
