import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testEnv } from './env';

const root = path.join(__dirname, '..', '..');

/** A real `qm worker` process (from the TypeScript sources), so a test can kill it like a crashed host. */
export interface ChildWorker {
  process: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** Sends SIGKILL and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * Spawns `qm worker ARGS` against the test server and database (schema and scheduler id given), and
 * resolves once it says it is polling.
 * @throws Error with its output when it exits or stays silent for 60 s.
 */
export async function spawnWorker(args: string[], env: Record<string, string>): Promise<ChildWorker> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(__dirname, 'ts-require.js'),
      path.join(root, 'src', 'cli', 'main.ts'),
      'worker',
      ...args,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testEnv.temporalAddress,
        DATABASE_URL: testEnv.databaseUrl,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`qm worker did not start in 60 s:\n${out}`)), 60_000);
    const check = (): void => {
      if (out.includes('qm worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`qm worker exited (${code}):\n${out}`));
    });
  });
  return {
    process: child,
    output: () => out,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * Spawns a node-only `qm worker` (declared capacity, no monitor) joining a test cluster: the cluster's shared
 * task queue, ledger schema and scheduler.
 */
export function spawnNodeWorker(
  cluster: { taskQueue: string; schedulerWorkflowId: string },
  schema: string,
  nodeId: string,
  capacity: string,
): Promise<ChildWorker> {
  return spawnWorker(
    [
      '--task-queue',
      cluster.taskQueue,
      '--node',
      nodeId,
      '--capacity',
      capacity,
      '--no-monitor',
      '--node-only',
    ],
    { QM_SCHEMA: schema, QM_SCHEDULER_WORKFLOW_ID: cluster.schedulerWorkflowId },
  );
}
