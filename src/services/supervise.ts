/**
 * Keeps a child service alive: when its process dies on its own (not through `stop()`), says so in a line and
 * starts it again with the same options, backing off between failed starts. `qm dev` supervises its embedded
 * PostgreSQL and its Temporal dev server with it.
 */
import type { ChildProcess } from 'node:child_process';

/** A running service whose death can be noticed. */
export interface SupervisedService {
  /** Its process, when known (a service without one is not watched). */
  readonly process?: ChildProcess;
  /** Stops it. */
  stop(): Promise<void>;
}

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  /** Where the lines go. */
  log: (line: string) => void;
  /** Wait before a restart, ms; doubles after each failed start, up to 30 s. @default 1000 */
  restartDelayMs?: number;
  /** Restarts allowed in all before giving up (a service that keeps dying needs a person). @default 20 */
  maxRestarts?: number;
}

/** A supervised service. */
export interface Supervisor<T extends SupervisedService> {
  /** The running instance (a new one after each restart). */
  current(): T;
  /** How many times it was restarted. */
  restarts(): number;
  /** Stops supervising, then stops the service. */
  stop(): Promise<void>;
}

/**
 * Starts a service through `start` and restarts it whenever its process exits unexpectedly, logging
 * `qm dev: NAME (pid P) exited (code C, signal S): restarting` and `qm dev: NAME restarted (pid P)`.
 * @throws whatever the first `start` throws (a service that cannot start at all is not retried).
 */
export async function supervise<T extends SupervisedService>(
  name: string,
  start: () => Promise<T>,
  options: SuperviseOptions,
): Promise<Supervisor<T>> {
  const baseDelay = options.restartDelayMs ?? 1000;
  const maxRestarts = options.maxRestarts ?? 20;
  let current = await start();
  let stopping = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;

  const watch = (service: T): void => {
    service.process?.once('exit', (code, signal) => {
      if (stopping || service !== current) return;
      options.log(
        `qm dev: ${name} (pid ${service.process?.pid ?? '?'}) exited (code ${code ?? '-'}, signal ${signal ?? '-'}): restarting`,
      );
      restart(baseDelay);
    });
  };
  const restart = (delayMs: number): void => {
    if (restarts >= maxRestarts) {
      options.log(`qm dev: ${name} died ${restarts + 1} times; not restarting it again (restart qm dev)`);
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      if (stopping) return;
      restarts++;
      start().then(
        (service) => {
          if (stopping) {
            void service.stop();
            return;
          }
          current = service;
          watch(service);
          options.log(`qm dev: ${name} restarted (pid ${service.process?.pid ?? '?'})`);
        },
        (err: unknown) => {
          options.log(
            `qm dev: ${name} failed to restart: ${(err as Error).message?.split('\n')[0] ?? String(err)}`,
          );
          restart(Math.min(30_000, delayMs * 2));
        },
      );
    }, delayMs);
  };
  watch(current);
  return {
    current: () => current,
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      if (timer) clearTimeout(timer);
      await current.stop();
    },
  };
}
