/**
 * Checking a workflow's argument outside the workflow sandbox. The sandbox evaluates every module afresh for
 * each workflow run, so importing the definition schema (zod) there cost every run ~30 ms of the workflow
 * thread just to build it (measured: a third of that thread's time under a burst of pipelines). The check runs
 * instead as a local activity, in the worker's own process where the schema is built once; its answer is
 * recorded in history (a marker). Workflows that started before this change replay without the local activity,
 * and a local activity that failed falls back to checking in the sandbox: both load the checker only then.
 */
import { isCancellation, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { QuartermasterActivities } from '../activities';
import type { ArgsRejection, CheckedPipelineArgs } from '../src/pipeline/args-failure';
import type * as ShardArgs from '../src/sharding/shard-args';
import type * as WorkflowArgs from '../src/pipeline/workflow-args';
import { LOCAL_ACTIVITIES_PATCH } from './patches';

const local = proxyLocalActivities<QuartermasterActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 2 },
});

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use only: see the module comment */
const pipelineChecker = (): typeof WorkflowArgs =>
  require('../src/pipeline/workflow-args') as typeof WorkflowArgs;
const shardChecker = (): typeof ShardArgs => require('../src/sharding/shard-args') as typeof ShardArgs;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Runs `check` as a local activity (new runs), else — or when it failed — `inSandbox`. */
async function outsideSandbox<T>(check: () => Promise<T>, inSandbox: () => T): Promise<T> {
  if (patched(LOCAL_ACTIVITIES_PATCH)) {
    try {
      return await check();
    } catch (err) {
      if (isCancellation(err)) throw err;
    }
  }
  return inSandbox();
}

/**
 * `pipelineWorkflow`'s argument, checked (see `checkPipelineArgs`): the normalised definition and importance,
 * or the bounded rejection. Never throws but for cancellation.
 */
export function checkedPipelineArgs(raw: unknown): Promise<CheckedPipelineArgs> {
  return outsideSandbox(
    () => local.checkPipelineArgs(raw),
    () => pipelineChecker().checkPipelineArgs(raw),
  );
}

/** `shardWorkflow`'s argument's rejection, or null when it is good (see `checkShardArgs`). */
export function shardArgsRejection(raw: unknown): Promise<ArgsRejection | null> {
  return outsideSandbox(
    () => local.checkShardArgs(raw),
    () => shardChecker().checkShardArgs(raw),
  );
}
