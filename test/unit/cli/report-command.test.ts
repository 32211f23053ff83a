/** `qm simulate --records-out` then `qm report --records`, in-process through `main`: exit codes and files. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';

const dir = mkdtempSync(path.join(os.tmpdir(), 'qm-report-cli-'));
const workload = path.join(__dirname, '..', '..', 'fixtures', 'workloads', 'order.json');

async function qm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

describe('qm report --records', () => {
  const records = path.join(dir, 'records.json');
  const out = path.join(dir, 'report.html');

  it('renders what qm simulate --records-out wrote', async () => {
    expect(await qm('simulate', workload, '--records-out', records)).toMatchObject({ code: 0 });
    const file = JSON.parse(readFileSync(records, 'utf8')) as { simulated: boolean; records: unknown[] };
    expect(file).toMatchObject({ format: 'quartermaster-execution-records', version: 1, simulated: true });
    expect(file.records).toHaveLength(3);
    const result = await qm('report', '--records', records, '--pipeline', 'b', '--out', out);
    expect(result).toMatchObject({ code: 0, stdout: `report written to ${out} (1 executions)\n` });
    expect(readFileSync(out, 'utf8')).toContain('1 execution(s) from records.json, pipeline b');
  });

  it.each([
    [
      ['report', '--since', '5x', '--records', 'r.json', '--out', 'x.html'],
      /--since must be a positive number/,
    ],
    [['report', '--records', path.join(dir, 'missing.json'), '--out', 'x.html'], /invalid execution records/],
    [['report', '--records', 'r.json'], /required option '--out <file>'/],
    [['simulate', '--swf', 'log.swf', '--records-out', 'r.json'], /--records-out needs a workload file/],
  ])('exits 2 for %j', async (args, message) => {
    const result = await qm(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync('x.html')).toBe(false);
  });
});
