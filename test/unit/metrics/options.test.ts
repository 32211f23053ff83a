import { metricsOptionsOf } from '../../../src/cli/commands/worker';
import { compileMetricsOptions, metricsPortFromEnv, parseMetricsPort } from '../../../src/metrics/options';

test('defaults: all interfaces, ledger gauges and process metrics on, no Temporal URL', () => {
  expect(compileMetricsOptions({ port: 9464 })).toEqual({
    port: 9464,
    host: '0.0.0.0',
    ledgerGauges: true,
    processMetrics: true,
    temporalMetricsUrl: undefined,
  });
});

test.each([
  [{ port: -1 }, 'port'],
  [{ port: 65536 }, 'port'],
  [{ port: 1.5 }, 'port'],
  [{ port: 9464, host: '' }, 'host'],
  [{ port: 9464, temporalMetricsUrl: 'localhost:9000' }, 'temporalMetricsUrl'],
])('%p is rejected, naming %p', (options, option) => {
  expect(() => compileMetricsOptions(options)).toThrow(
    expect.objectContaining({ name: 'InvalidMetricsOptionError', option }),
  );
});

test('ports from text: empty is none, garbage names its source', () => {
  expect(parseMetricsPort(undefined, '--metrics-port')).toBeUndefined();
  expect(parseMetricsPort(' ', '--metrics-port')).toBeUndefined();
  expect(parseMetricsPort('9464', '--metrics-port')).toBe(9464);
  expect(() => parseMetricsPort('0', '--metrics-port')).toThrow(/--metrics-port="0"/);
  expect(metricsPortFromEnv({ QM_METRICS_PORT: '9100' })).toBe(9100);
  expect(() => metricsPortFromEnv({ QM_METRICS_PORT: 'abc' })).toThrow(
    expect.objectContaining({ option: 'QM_METRICS_PORT', value: 'abc' }),
  );
});

test('qm worker: --metrics-port wins over QM_METRICS_PORT; a bad one is a usage error', () => {
  expect(metricsOptionsOf({}, {})).toBeUndefined();
  expect(metricsOptionsOf({}, { QM_METRICS_PORT: '9100' })).toEqual({ port: 9100 });
  expect(
    metricsOptionsOf({ metricsPort: '9464', metricsHost: '127.0.0.1' }, { QM_METRICS_PORT: '9100' }),
  ).toEqual({
    port: 9464,
    host: '127.0.0.1',
  });
  expect(() => metricsOptionsOf({ metricsPort: 'x' }, {})).toThrow(
    expect.objectContaining({ name: 'UsageError' }),
  );
});
