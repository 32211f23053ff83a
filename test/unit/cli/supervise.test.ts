import { spawn } from 'node:child_process';
import { supervise, type SupervisedService } from '../../../src/services/supervise';

/** A stand-in service: a node process that sleeps until killed. */
async function sleeper(): Promise<SupervisedService> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

test('a service that dies is restarted, with a line saying so; stop() stops it for good', async () => {
  const lines: string[] = [];
  const supervisor = await supervise('PostgreSQL', sleeper, {
    log: (l) => lines.push(l),
    restartDelayMs: 50,
  });
  const first = supervisor.current();
  first.process?.kill('SIGKILL');
  for (let i = 0; i < 100 && supervisor.current() === first; i++) await new Promise((r) => setTimeout(r, 20));
  expect(supervisor.current()).not.toBe(first);
  expect(supervisor.restarts()).toBe(1);
  expect(lines[0]).toMatch(/^qm dev: PostgreSQL \(pid \d+\) exited \(code -, signal SIGKILL\): restarting$/);
  expect(lines[1]).toMatch(/^qm dev: PostgreSQL restarted \(pid \d+\)$/);
  const second = supervisor.current();
  await supervisor.stop();
  expect(second.process?.signalCode).toBe('SIGTERM');
  await new Promise((r) => setTimeout(r, 150));
  expect(supervisor.restarts()).toBe(1); // a stop is not a death
});
