/** `qm simulate --run-times declared|none|learned`. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerSimulateCommands, simulateCommand } from '../../../src/cli/commands/simulate';
import { parseRecordsFile } from '../../../src/report/records-file';
import type { RunTimeMode } from '../../../src/simulator';
import { job } from './fixtures';

describe('qm simulate --run-times', () => {
  let dir: string;
  let file: string;
  let out: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qm-run-times-'));
    file = path.join(dir, 'w.json');
    // x (2 cores, 10 s) three times in a row: learned from the warm-up, every x of the measured run is told 10 s.
    writeFileSync(
      file,
      JSON.stringify({
        cluster: { nodes: [{ id: 'n1', capacity: { cpu: 2 } }] },
        submissions: [0, 1, 2].map((at) => job(at, 'x', 5, { cpu: 2 }, 10)),
      }),
    );
    out = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each<[RunTimeMode, Array<[number | null, string | null]>]>([
    [
      'declared',
      [
        [10, 'declared'],
        [10, 'declared'],
        [10, 'declared'],
      ],
    ],
    [
      'none',
      [
        [null, null],
        [null, null],
        [null, null],
      ],
    ],
    [
      'learned',
      [
        [10, 'learned'],
        [10, 'learned'],
        [10, 'learned'],
      ],
    ],
  ])('%s: the records carry the prediction', (runTimes, expected) => {
    const recordsOut = path.join(dir, 'records.json');
    simulateCommand(file, { json: true, runTimes, recordsOut });
    expect(JSON.parse(out)).toMatchObject({ makespanSeconds: 30 });
    const records = parseRecordsFile(JSON.parse(readFileSync(recordsOut, 'utf8'))).records;
    expect(records.map((r) => [r.predictedSeconds, r.predictedSource])).toEqual(expected);
  });

  it('a bad mode is a usage error (function) and an invalid argument (command line)', () => {
    expect(() => simulateCommand(file, { runTimes: 'guess' as RunTimeMode })).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/guess/) }),
    );
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerSimulateCommands(program);
    expect(() => program.parse(['node', 'qm', 'simulate', file, '--run-times', 'guess'])).toThrow(
      expect.objectContaining({ code: 'commander.invalidArgument' }),
    );
  });
});
