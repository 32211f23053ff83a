import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluateTrace, evaluationToJson, maeRatio } from '../../../src/monitor/evaluate';
import { MODEL_NAMES } from '../../../src/monitor/forecast/models';
import {
  parseTrace,
  readTraceFile,
  serializeTrace,
  toTraceSample,
  traceMetrics,
} from '../../../src/monitor/trace';

const T0 = 1_764_530_000_000;

describe('trace parsing', () => {
  it('accepts the documented shape, ignores unknown fields and skips absent metrics', () => {
    const trace = parseTrace(
      JSON.stringify({
        intervalMs: 1000,
        host: 'x',
        samples: [
          { t: T0, cpu: 1.25, memoryMb: 5120, extra: true },
          { t: T0 + 1000, cpu: 1.5, memoryMb: null },
        ],
      }),
      'a.json',
    );
    expect(trace.samples).toEqual([
      { t: T0, cpu: 1.25, memoryMb: 5120 },
      { t: T0 + 1000, cpu: 1.5 },
    ]);
    expect(traceMetrics(trace)).toEqual(['cpu', 'memoryMb']);
  });

  it.each([
    ['{', '', /not valid JSON/],
    ['[]', '', /JSON object/],
    ['{"samples":[]}', 'intervalMs', /positive number/],
    ['{"intervalMs":1000}', 'samples', /array/],
    ['{"intervalMs":1000,"samples":[]}', 'samples', /empty/],
    ['{"intervalMs":1000,"samples":[3]}', 'samples[0]', /object/],
    ['{"intervalMs":1000,"samples":[{"cpu":1}]}', 'samples[0].t', /finite number/],
    ['{"intervalMs":1000,"samples":[{"t":2},{"t":1}]}', 'samples[1].t', /later/],
    ['{"intervalMs":1000,"samples":[{"t":1,"cpu":"high"}]}', 'samples[0].cpu', />= 0/],
  ])('rejects %s at %p', (text, at, problem) => {
    try {
      parseTrace(text, 'bad.json');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toMatchObject({ name: 'TraceFormatError', file: 'bad.json', path: at });
      expect((err as Error).message).toContain('bad.json');
      expect((err as { problem: string }).problem).toMatch(problem);
    }
  });

  it('names an unreadable file', async () => {
    await expect(readTraceFile('/nonexistent/trace.json')).rejects.toMatchObject({
      name: 'TraceFormatError',
      file: '/nonexistent/trace.json',
    });
  });

  it('round-trips through serializeTrace and rounds sampler samples', async () => {
    const s = toTraceSample({
      at: T0,
      cpu: 1.23456,
      cpuCores: 2,
      memoryMb: 5120.6,
      memoryTotalMb: 8000,
      diskIoMBps: 3.14159,
      netMbps: null,
      gpus: null,
      notes: [],
    });
    expect(s).toEqual({ t: T0, cpu: 1.235, memoryMb: 5121, diskIoMBps: 3.14 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-trace-'));
    const file = path.join(dir, 't.json');
    const trace = { intervalMs: 1000, capacity: { cpu: 2 }, samples: [s, { ...s, t: T0 + 1000 }] };
    writeFileSync(file, serializeTrace(trace));
    await expect(readTraceFile(file)).resolves.toEqual(trace);
  });
});

describe('evaluateTrace', () => {
  // cpu ramps linearly; memory is constant; disk is missing from every sample.
  const trace = parseTrace(
    JSON.stringify({
      intervalMs: 1000,
      samples: Array.from({ length: 120 }, (_, i) => ({ t: T0 + i * 1000, cpu: 0.01 * i, memoryMb: 4000 })),
    }),
    'synthetic.json',
  );
  const ev = evaluateTrace(trace);

  it('scores every model on the metrics present, at 5 and 10 s', () => {
    expect(ev.metrics).toEqual(['cpu', 'memoryMb']);
    expect(Object.keys(ev.models)).toEqual([...MODEL_NAMES]);
    const last = ev.models.lastValue?.cpu;
    // lastValue is off by exactly the ramp over the horizon at every scored point.
    expect(last?.['5']?.mae).toBeCloseTo(0.05, 9);
    expect(last?.['10']?.mae).toBeCloseTo(0.1, 9);
    expect(last?.['5']?.n).toBe(115);
    expect(last?.['10']?.p90).toBeCloseTo(0.1, 9);
    expect(ev.models.holt?.memoryMb?.['10']?.mae).toBe(0);
  });

  it('ranks the trend models well below lastValue on a ramp', () => {
    expect(maeRatio(ev, 'linearTrend', 'cpu', 5)).toBeLessThan(0.1);
    expect(maeRatio(ev, 'holt', 'cpu', 10)).toBeLessThan(0.1);
    expect(maeRatio(ev, 'lastValue', 'cpu', 5)).toBe(1);
    expect(maeRatio(ev, 'ewma', 'memoryMb', 5)).toBe(1); // both zero
  });

  it('produces the documented --json shape', () => {
    const json = evaluationToJson('synthetic.json', ev);
    expect(json.file).toBe('synthetic.json');
    expect(json.default).toBe(ev.default);
    expect(Object.keys(json.models)).toContain('lastValue');
    expect(Object.keys(json.models)).toContain(ev.default);
    expect(Object.keys(json.models.lastValue?.cpu?.['5'] ?? {})).toEqual(['mae', 'rmse', 'p90']);
    expect(Object.keys(json.models.lastValue?.cpu ?? {})).toEqual(['5', '10']);
  });
});
