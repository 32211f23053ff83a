/** `qm dev`'s embedded PostgreSQL is restarted when it dies (it stayed dead before). Needs `npm run build`. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

test('a killed embedded PostgreSQL comes back on the same port and data, with a line', async () => {
  const script = path.join(__dirname, '..', '..', 'support', 'supervised-pg.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { lines: string[]; one: number };
  expect(report.one).toBe(1);
  expect(report.lines.join('\n')).toMatch(
    /PostgreSQL \(pid \d+\) exited .*restarting\nqm dev: PostgreSQL restarted \(pid \d+\)/,
  );
}, 90_000);
