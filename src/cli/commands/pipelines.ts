import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { pipelineResult, pipelineStatus, startPipeline } from '../../client';
import type { JsonValue } from '../../handlers/types';
import type { PipelineResult, PipelineStatus, StageState } from '../../pipeline/types';
import { UsageError, withClient } from '../context';
import { isDefinitionFile } from '../read-definition';
import { printJson, printTable } from '../output';
import {
  STATUS_HEADERS,
  statusRows,
  statusView,
  type StatusView,
  type TemporalRunInfo,
} from '../status-view';
import { DEFAULT_SCHEDULER_WORKFLOW_ID } from '../../admission/constants';
import type { SchedulerQueue } from '../../../workflows/messages';
import { resolveDefinitionVersion } from './definitions';

/** Options of `qm submit`. */
export interface SubmitOptions {
  input?: string;
  id?: string;
  importance?: string;
  taskQueue?: string;
  wait?: boolean;
}

function parseInput(text: string | undefined): JsonValue | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new UsageError(`--input is not valid JSON: ${(err as Error).message}`);
  }
}

function parseImportance(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 10)
    throw new UsageError(`--importance must be a number 0–10 (got ${text})`);
  return n;
}

/**
 * `qm submit FILE|NAME`: starts a pipeline from a file or the registry; with `wait`, prints each stage
 * change as it happens and then the result. Returns the result when waiting.
 * @throws UsageError for bad flags; the definition and Temporal errors otherwise.
 */
export async function submitCommand(
  fileOrName: string,
  options: SubmitOptions,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<PipelineResult | undefined> {
  const { definition, version } = await resolveDefinitionVersion(fileOrName, isDefinitionFile(fileOrName));
  const input = parseInput(options.input);
  const importance = parseImportance(options.importance);
  return withClient(async (client) => {
    const handle = await startPipeline(client, definition, {
      input,
      importance,
      workflowId: options.id,
      taskQueue: options.taskQueue,
      ...(version === undefined ? {} : { definitionVersion: version }),
    });
    log(`started ${definition.name} as workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
    if (!options.wait) {
      process.stdout.write(`${handle.workflowId}\n`);
      return undefined;
    }
    const result = await waitWithProgress(client, handle, log);
    printJson(result);
    if (result.status === 'failed') process.exitCode = 1;
    return result;
  });
}

/**
 * Polls the `status` query every `intervalMs` and logs each stage transition until the workflow closes.
 * @returns the pipeline result (a failed pipeline's result comes from its PipelineFailedError details).
 */
export async function waitWithProgress(
  _client: Client,
  handle: WorkflowHandle,
  log: (line: string) => void,
  intervalMs = 500,
): Promise<PipelineResult> {
  const seen = new Map<string, string>();
  const report = (status: PipelineStatus): void => {
    for (const [id, s] of Object.entries(status.stages)) {
      const key = `${s.status}/${s.attempts}/${s.waitReason ?? ''}`;
      if (seen.get(id) === key) continue;
      seen.set(id, key);
      // ISO-8601 with its zone (UTC), like every time qm prints.
      if (s.status !== 'pending') log(`  ${new Date().toISOString()}  ${id.padEnd(20)} ${describe(s)}`);
    }
  };
  let done = false;
  const outcome = pipelineResult(handle).then(
    (r) => r,
    (err: unknown) => failedResult(err),
  );
  void outcome.finally(() => (done = true));
  while (!done) {
    await Promise.race([outcome, new Promise((r) => setTimeout(r, intervalMs))]);
    await pipelineStatus(handle).then(report, () => undefined);
  }
  return outcome;
}

function describe(s: StageState): string {
  if (s.status === 'failed') return `failed after ${s.attempts} attempt(s): ${s.error ?? ''}`;
  if (s.status === 'waiting' && s.waitReason) return `waiting: ${s.waitReason}`;
  if (s.status === 'running') return `running (attempt ${s.attempts}${s.node ? ` on ${s.node}` : ''})`;
  if (s.status === 'completed') return `completed (attempt ${s.attempts})`;
  if (s.status === 'partial' && s.coverage) {
    return `partial: ${s.coverage.completed.length}/${s.coverage.shards} shards (missing ${[
      ...s.coverage.failed,
      ...s.coverage.missing,
    ].join(', ')})`;
  }
  return s.status;
}

function failedResult(err: unknown): PipelineResult {
  if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
    const details = err.cause.details?.[0] as PipelineResult | undefined;
    if (err.cause.type === 'PipelineFailedError' && details !== undefined) return details;
  }
  throw err;
}

/**
 * `qm status ID`: the pipeline's state and a table of stages (`--json` for the raw status); a sharded stage
 * adds a table of its shards with their state, attempts, items and node.
 */
export async function statusCommand(
  workflowId: string,
  options: { json?: boolean },
): Promise<PipelineStatus | undefined> {
  return withClient(async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    const described = await handle.describe();
    const temporal: TemporalRunInfo = {
      status: described.status.name,
      ...(described.closeTime ? { closeTime: described.closeTime.toISOString() } : {}),
    };
    // A closed run is queried by replay on a worker; without one, Temporal's description still answers.
    const status = await pipelineStatus(handle).catch((err: unknown) => {
      if (described.status.name === 'RUNNING') throw err;
      return undefined;
    });
    const view = statusView(status, temporal);
    if (options.json) {
      printJson({
        ...(status ?? {}),
        state: view.state,
        temporal,
        ...(view.note ? { note: view.note } : {}),
      });
      return status;
    }
    const estimates = await waitingEstimates(client, workflowId, view);
    process.stdout.write(
      `${status?.name ?? described.type}  ${workflowId}  ${view.state}${
        status ? `  importance ${status.importance}` : ''
      }\n`,
    );
    if (view.note) process.stdout.write(`${view.note}\n`);
    if (status === undefined) return undefined;
    printTable(STATUS_HEADERS, statusRows(view, estimates));
    for (const [id, s] of Object.entries(status.stages)) {
      if (!s.shards || s.shards.length === 0) continue;
      const c = s.coverage;
      const covered = c?.items ? `, items ${c.items.covered}/${c.items.total}` : '';
      process.stdout.write(
        `\nstage ${id}: ${s.shards.length} shards` +
          (c
            ? ` (${c.completed.length} completed, ${c.failed.length} failed, ${c.missing.length} missing${covered})`
            : '') +
          '\n',
      );
      printTable(
        ['SHARD', 'STATUS', 'ATTEMPTS', 'ITEMS', 'NODE', 'ERROR'],
        s.shards.map((sh) => [
          String(sh.index),
          sh.status,
          String(sh.attempts),
          sh.items ? `${sh.items.start}-${sh.items.end - 1}` : '',
          sh.node ?? '',
          sh.error ?? '',
        ]),
      );
    }
    return status;
  });
}

/**
 * Estimated starts of this pipeline's waiting stages, from the scheduler's `queue` query (best effort: an
 * empty map when nothing waits or the scheduler does not answer).
 */
async function waitingEstimates(
  client: Client,
  workflowId: string,
  view: StatusView,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (!Object.values(view.stages).some((s) => s.displayStatus === 'waiting')) return out;
  const id = process.env.QM_SCHEDULER_WORKFLOW_ID ?? DEFAULT_SCHEDULER_WORKFLOW_ID;
  const queue = await client.workflow
    .getHandle(id)
    .query<SchedulerQueue>('queue')
    .catch(() => undefined);
  for (const row of queue?.entries ?? [])
    if (row.workflowId === workflowId && row.shardIndex === null && row.estimatedStartAt !== undefined)
      out.set(row.stageId, row.estimatedStartAt);
  return out;
}

/** Adds `submit` and `status`. */
export function registerPipelineCommands(program: Command): void {
  program
    .command('submit')
    .description('start a pipeline from a definition file or a registered name (NAME or NAME@VERSION)')
    .argument('<file-or-name>')
    .option('--input <json>', 'pipeline input (JSON), given to every handler as pipelineInput')
    .option('--id <workflowId>', 'workflow id (default: <name>-<random>)')
    .option('--importance <n>', 'base importance 0–10 for this run')
    .option('--task-queue <queue>', 'task queue of pipelineWorkflow', 'quartermaster')
    .option('--wait', 'wait for the result, printing stage progress')
    .action(async (arg: string, opts: SubmitOptions) => {
      await submitCommand(arg, opts);
    });
  program
    .command('status')
    .description("show a pipeline's stages")
    .argument('<workflowId>')
    .option('--json', 'print the status as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await statusCommand(id, opts);
    });
}
