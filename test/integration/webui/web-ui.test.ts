/**
 * The Web UI checked in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the UI of a Temporal dev server started here (the shared test server is headless). Asserts the
 * pipeline list filtered by `QmState="running" AND QmPriority>=8`, a pipeline's current details with its stage
 * table and wait reason, and saves screenshots into `docs/`. Skipped when no Chromium is installed, unless
 * QM_REQUIRE_WEBUI=1 (CI installs it in `.ci/run`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPipeline } from '../../../src/client';
import type { Database } from '../../../src/ledger/db';
import { freePort } from '../../../src/services/free-port';
import { startTemporalDevServer, type TemporalDevServer } from '../../../src/services/temporal-dev-server';
import { createQuartermasterWorker, type QuartermasterWorker } from '../../../src/worker/create-worker';
import { dropSchema, openTestDatabase, testEnv, uniqueId } from '../../support/env';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const required = process.env.QM_REQUIRE_WEBUI === '1';
const run = CHROMIUM !== undefined || required ? describe : describe.skip;
const docs = path.join(__dirname, '..', '..', '..', 'docs');

/** `schedulerWorkflow` sets its current details after each full cycle: the scheduler page is asserted too. */
const SCHEDULER_DETAILS_WIRED = true;

/** The text of the first frame (the page or an iframe) whose text contains `needle`, waiting up to 30 s. */
async function frameText(page: Page, needle: string): Promise<string> {
  for (let i = 0; i < 60; i++) {
    for (const frame of page.frames()) {
      const text = await frame
        .locator('body')
        .innerText({ timeout: 1_000 })
        .catch(() => '');
      if (text.includes(needle)) return text;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.screenshot({ path: '/tmp/qm-web-ui-failure.png', fullPage: true });
  throw new Error(`no frame shows "${needle}" (screenshot: /tmp/qm-web-ui-failure.png)`);
}

run('the Web UI in a real browser', () => {
  let server: TemporalDevServer;
  let db: Database;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let worker: QuartermasterWorker;
  let running: Promise<void>;
  let browser: Browser;
  let page: Page;
  const taskQueue = uniqueId('qm-webui');
  const schedulerWorkflowId = `scheduler-${taskQueue}`;
  const ids = { hog: uniqueId('hog'), urgent: uniqueId('urgent'), low: uniqueId('low') };

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error('QM_REQUIRE_WEBUI=1 but no chromium is installed');
    [server, db] = await Promise.all([
      startTemporalDevServer({ uiPort: await freePort() }),
      openTestDatabase('qm_webui'),
    ]);
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await createQuartermasterWorker({
      connection: nativeConnection,
      taskQueue,
      schedulerWorkflowId,
      databaseUrl: testEnv.databaseUrl,
      schema: db.schema,
      node: { id: 'ui-node', capacity: { cpu: 2 }, monitor: false },
      workflowBundle: { codePath: testEnv.workflowBundlePath },
      workerOptions: { shutdownGraceTime: '1s' },
    });
    running = worker.run();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    const oneStage = (name: string, priority: number, resources: boolean) => ({
      name,
      stages: [
        {
          id: 'work',
          handler: 'qm.sleep',
          priority,
          input: { ms: 120_000 },
          ...(resources ? { resources: { desired: { cpu: 2 } } } : {}),
        },
      ],
    });
    await startPipeline(client, oneStage('hog', 9, true), { taskQueue, workflowId: ids.hog });
    await new Promise((r) => setTimeout(r, 1500));
    await startPipeline(client, oneStage('urgent', 9, true), { taskQueue, workflowId: ids.urgent });
    await startPipeline(client, oneStage('low', 3, false), { taskQueue, workflowId: ids.low });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const id of Object.values(ids))
      await client?.workflow
        .getHandle(id)
        .terminate('web UI test done')
        .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    if (db) await dropSchema(db);
  }, 60_000);

  test('the pipeline list filtered by QmState="running" AND QmPriority>=8 shows the right runs', async () => {
    const query = encodeURIComponent('QmState="running" AND QmPriority>=8');
    // Visibility is eventually consistent: reload until both runs are listed.
    for (let i = 0; i < 20; i++) {
      await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${query}`);
      const found = await page
        .getByText(ids.urgent)
        .first()
        .waitFor({ timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (found && (await page.getByText(ids.hog).count()) > 0) break;
    }
    await page.getByText(ids.hog).first().waitFor({ timeout: 10_000 });
    await page.getByText(ids.urgent).first().waitFor({ timeout: 10_000 });
    expect(await page.getByText(ids.low).count()).toBe(0);
    await page.screenshot({ path: path.join(docs, 'web-ui-pipelines.png') });
  }, 120_000);

  /**
   * The current details of `workflowId`, reloaded until they match `pattern` (≤ 60 s: a wait reason arrives
   * after the first full cycle). Web UI 2.54 shows them under the workflow's "User Metadata" tab and renders
   * each markdown panel (summary, current details) in its own iframe.
   */
  async function detailsText(workflowId: string, needle: string, pattern: RegExp): Promise<string> {
    let text = '';
    for (let i = 0; i < 12 && !pattern.test(text); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 5000));
      await page.goto(`${server.uiUrl}/namespaces/default/workflows/${workflowId}`);
      await page.getByText('User Metadata', { exact: true }).first().click();
      text = await frameText(page, needle);
    }
    return text;
  }

  test("a pipeline's current details show its stage table with a wait reason", async () => {
    const text = await detailsText(ids.urgent, 'ALLOCATION', /work\s+waits: cpu/);
    expect(text).toMatch(/urgent — running/);
    expect(text).toMatch(/STAGE\s+PRIO\s+STATUS\s+ATTEMPTS\s+NODE\s+ALLOCATION/);
    expect(text).toMatch(/work\s+9\s+waiting\s+0/);
    expect(text).toMatch(/work\s+waits: cpu/);
    await page.screenshot({ path: path.join(docs, 'web-ui-pipeline-details.png'), fullPage: true });
  }, 180_000);

  (SCHEDULER_DETAILS_WIRED ? test : test.skip)(
    "the scheduler's current details show its queue",
    async () => {
      const text = await detailsText(schedulerWorkflowId, 'last cycle', new RegExp(ids.urgent));
      expect(text).toContain('Quartermaster scheduler');
      expect(text).toContain(ids.urgent);
      expect(text).toMatch(/RANK\s+PIPELINE\s+STAGE\s+SCORE\s+DECISION/);
      await page.screenshot({ path: path.join(docs, 'web-ui-scheduler.png'), fullPage: true });
    },
    180_000,
  );
});
