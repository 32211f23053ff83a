import { rmSync } from 'node:fs';

interface Services {
  temporal: { stop(): Promise<void> };
  postgres?: { stop(): Promise<void> };
  tmp: string;
}

/** Stops what `global-setup.ts` started and removes its temporary folder. */
export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<string, unknown>).__qmServices as Services | undefined;
  if (services === undefined) return;
  await Promise.all([services.temporal.stop(), services.postgres?.stop()]);
  rmSync(services.tmp, { recursive: true, force: true });
}
