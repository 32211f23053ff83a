/** The execution-records file: written by `qm simulate --records-out`, read by `qm report --records`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDuration } from '../../../src/cli/duration';
import {
  parseRecordsFile,
  readRecordsFile,
  serializeRecordsFile,
  type RecordsFile,
} from '../../../src/report/records-file';
import { at, rec } from './records';

const content: RecordsFile = {
  title: 'a run',
  simulated: true,
  nodes: [{ id: 'n1', capacity: { cpu: 4 } }],
  samples: [{ nodeId: 'n1', at: at(3), resource: 'cpu', used: 2, forecast: null }],
  records: [
    rec({ estimatedStart: 1, expectedSeconds: 9 }),
    rec({ shardIndex: 2, granted: null, started: null }),
    rec({ predictedSeconds: 12.5, predictedSource: 'learned' }),
  ],
};

describe('records file', () => {
  it('round-trips through JSON, dates included', () => {
    const text = serializeRecordsFile(content);
    expect(JSON.parse(text)).toMatchObject({ format: 'quartermaster-execution-records', version: 1 });
    expect(parseRecordsFile(JSON.parse(text))).toEqual(content);
  });

  it('reads a file written before predictions were recorded: they read as null', () => {
    const old = JSON.parse(serializeRecordsFile(content)) as { records: Array<Record<string, unknown>> };
    for (const r of old.records) {
      delete r.predictedSeconds;
      delete r.predictedSource;
    }
    const records = parseRecordsFile(old).records;
    expect(records.map((r) => [r.expectedSeconds, r.predictedSeconds, r.predictedSource])).toEqual([
      [9, null, null],
      [null, null, null],
      [null, null, null],
    ]);
  });

  it('rejects an unknown prediction source', () => {
    const bad = JSON.parse(serializeRecordsFile(content)) as { records: Array<Record<string, unknown>> };
    (bad.records[2] as Record<string, unknown>).predictedSource = 'guessed';
    expect(() => parseRecordsFile(bad)).toThrow(
      expect.objectContaining({
        name: 'RecordsFileError',
        issues: [expect.objectContaining({ path: expect.stringMatching(/records.*2.*predictedSource/) })],
      }),
    );
  });

  it('reads a file from disk', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'qm-records-')), 'r.json');
    writeFileSync(file, serializeRecordsFile(content));
    expect(readRecordsFile(file).records).toHaveLength(3);
  });

  it.each([
    ['not an object', 42, '$'],
    ['another format', { format: 'x', version: 1, records: [] }, 'format'],
    [
      'a bad date',
      {
        ...JSON.parse(serializeRecordsFile(content)),
        records: [{ ...JSON.parse(JSON.stringify(content.records[0])), endedAt: 'yesterday' }],
      },
      'records[0].endedAt',
    ],
    [
      'a bad outcome',
      {
        ...JSON.parse(serializeRecordsFile(content)),
        records: [{ ...JSON.parse(JSON.stringify(content.records[0])), outcome: 'done' }],
      },
      'records[0].outcome',
    ],
    ['an unknown field', { ...JSON.parse(serializeRecordsFile(content)), extra: 1 }, '$'],
  ])('rejects %s, naming the path', (_label, raw, issuePath) => {
    let error: unknown;
    try {
      parseRecordsFile(raw, 'f.json');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ name: 'RecordsFileError', file: 'f.json' });
    expect((error as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toContain(issuePath);
  });

  it('reports an unreadable file as RecordsFileError', () => {
    expect(() => readRecordsFile('/nonexistent/records.json')).toThrow(
      expect.objectContaining({ name: 'RecordsFileError' }) as Error,
    );
  });
});

describe('parseDuration (--since)', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1.5h', 5_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', 'h', '0s', '-5m', '1w', '1 h', '1h30m', 'abc'])(
    'rejects "%s" with a typed error',
    (text) => {
      expect(() => parseDuration(text, '--since')).toThrow(
        expect.objectContaining({ name: 'InvalidDurationError', option: '--since', value: text }) as Error,
      );
    },
  );
});
