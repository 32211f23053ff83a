import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../../src/ledger/embedded';
import { freePort } from '../../src/services/free-port';
import { startTemporalDevServer } from '../../src/services/temporal-dev-server';
import { workflowsPath } from '../../src/worker/workflows-path';

/**
 * Starts, once per Jest run, a real Temporal dev server and a real PostgreSQL (embedded, unless
 * DATABASE_URL is set), and bundles the workflow code once. Test files read the addresses from
 * QM_TEST_* environment variables (see `test/support/env.ts`).
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qm-test-'));
  // The postgres OS user must traverse into the data directory's parent.
  chmodSync(tmp, 0o755);
  const [temporal, postgres, bundle] = await Promise.all([
    startTemporalDevServer({ dynamicConfig: ['limit.historyCount.suggestContinueAsNew=200'] }),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port })),
    bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger() }),
  ]);
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.QM_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.QM_TEST_DATABASE_URL = process.env.DATABASE_URL ?? postgres?.connectionString;
  process.env.QM_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as Record<string, unknown>).__qmServices = { temporal, postgres, tmp };
  process.stderr.write(
    `\n[qm test] Temporal ${temporal.address}, PostgreSQL ready, bundle built in ${Date.now() - started} ms\n`,
  );
}

function quietLogger() {
  const noop = (): void => undefined;
  return {
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: (m: string) => process.stderr.write(`${m}\n`),
    log: noop,
  };
}
