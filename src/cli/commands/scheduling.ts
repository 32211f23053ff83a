import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { BoostRequest } from '../../boosts/boost-request';
import { DEFAULT_SCHEDULER_WORKFLOW_ID } from '../../admission/constants';
import type { QueueRow } from '../../admission/types';
import { signBoostCapability } from '../../boosts/capability-mac';
import { UsageError, withClient } from '../context';
import { printJson, printTable } from '../output';
import { formatExpectedRun } from './executions';

/** What the scheduler's `queue` query returns (see workflows/messages.ts). */
interface SchedulerQueue {
  lastCycleAt: string | null;
  cycles: number;
  entries: QueueRow[];
}

/**
 * The `EST. START` cell of a queue row: `in 2m10s` (from `now`), `now` for an estimate already reached,
 * `unknown` for a waiting row without one, empty for grant and shard rows.
 */
export function formatEstimatedStart(
  row: Pick<QueueRow, 'decision' | 'estimatedStartAt'>,
  now: Date,
): string {
  if (row.decision !== 'wait') return '';
  if (row.estimatedStartAt === undefined || row.estimatedStartAt === null) return 'unknown';
  const seconds = Math.round((Date.parse(row.estimatedStartAt) - now.getTime()) / 1000);
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds <= 0) return 'now';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `in ${d}d${h}h`;
  if (h > 0) return `in ${h}h${pad(m)}m`;
  if (m > 0) return `in ${m}m${pad(s)}s`;
  return `in ${s}s`;
}

function schedulerId(): string {
  return process.env.QM_SCHEDULER_WORKFLOW_ID ?? DEFAULT_SCHEDULER_WORKFLOW_ID;
}

/**
 * `qm queue`: the ranked pending requests with their score breakdown, why each waits, when it is expected
 * to start (like Slurm's `sprio` + `squeue --start`) and the run time that estimate assumed (`~2m10s
 * (learned, n=14)` when learned from history), from the scheduler's `queue` query.
 * @throws WorkflowNotFoundError when no scheduler has run yet (printed as "nothing has been queued yet").
 */
export async function queueCommand(options: { json?: boolean }): Promise<QueueRow[]> {
  return withClient(async (client) => {
    let queue: SchedulerQueue;
    try {
      queue = await client.workflow.getHandle(schedulerId()).query<SchedulerQueue>('queue');
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') {
        process.stderr.write('no scheduler is running: nothing has asked for resources yet\n');
        return [];
      }
      throw err;
    }
    if (options.json) {
      printJson(queue);
      return queue.entries;
    }
    const f = (n: number): string => n.toFixed(3);
    const now = new Date();
    process.stdout.write(`last cycle ${queue.lastCycleAt ?? 'never'}; ${queue.entries.length} request(s)\n`);
    printTable(
      [
        'RANK',
        'WORKFLOW',
        'STAGE',
        'PRIO',
        'IMPORT',
        'SCORE',
        'PRIO_F',
        'IMP_F',
        'FIT_F',
        'AGE_F',
        'SIZE_F',
        'DECISION',
        'EST. START',
        'EXPECTED RUN',
        'REASON',
      ],
      queue.entries.map((e) => [
        String(e.rank),
        e.workflowId,
        e.shardIndex === null ? e.stageId : `${e.stageId}#${e.shardIndex}`,
        String(e.priority),
        String(e.importance),
        f(e.score),
        f(e.breakdown.priority),
        f(e.breakdown.importance),
        f(e.breakdown.fit),
        f(e.breakdown.age),
        f(e.breakdown.size),
        e.decision,
        formatEstimatedStart(e, now),
        formatExpectedRun(e),
        e.reason,
      ]),
    );
    return queue.entries;
  });
}

/**
 * Parses a duration: `90`, `90s`, `10m`, `2h`, `1d` → seconds.
 * @throws UsageError for anything else.
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--ttl "${text}" is not a duration like 90s, 10m, 2h or 1d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/** Options of `qm boost`. */
export interface BoostOptions {
  by: string;
  ttl: string;
  reason: string;
  actor?: string;
  /** Sign an admin capability with the secret (`QM_ADMIN_TOKEN`, or `--token`); the secret is never sent. */
  admin?: boolean;
  /** The admin secret to sign with. @default process.env.QM_ADMIN_TOKEN */
  token?: string;
}

/**
 * `qm boost ID --by N --ttl 10m --reason … [--admin]`: the `boost` update. With `--admin`, a capability signed
 * with the admin secret (`QM_ADMIN_TOKEN` or `--token`) for exactly this pipeline, amount, ttl and reason
 * (valid 5 minutes, single use) lifts the limits; the secret itself never leaves this process. Without it,
 * amounts above 3 and ttls above 1 h are refused.
 * @throws UsageError for a refused boost (the validator's message, naming the field).
 */
export async function boostCommand(
  workflowId: string,
  options: BoostOptions,
): Promise<{ importance: number; expiresAt: string }> {
  const amount = Number(options.by);
  const ttlSeconds = parseDuration(options.ttl);
  const secret = options.token ?? process.env.QM_ADMIN_TOKEN;
  if ((options.admin || options.token !== undefined) && !secret)
    throw new UsageError('--admin needs the admin secret: set QM_ADMIN_TOKEN (or pass --token)');
  const request: BoostRequest = {
    amount,
    ttlSeconds,
    reason: options.reason,
    actor: options.actor ?? process.env.USER ?? 'cli',
    ...(options.admin || options.token !== undefined
      ? {
          capability: signBoostCapability(secret as string, {
            workflowId,
            amount,
            ttlSeconds,
            reason: options.reason,
          }),
        }
      : {}),
  };
  return withClient(async (client) => {
    try {
      const result = await client.workflow
        .getHandle(workflowId)
        .executeUpdate<{ importance: number; expiresAt: string }, [BoostRequest]>('boost', {
          args: [request],
        });
      process.stdout.write(
        `boosted ${workflowId} by ${amount}: importance ${result.importance} until ${result.expiresAt}\n`,
      );
      return result;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new UsageError(`boost refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  });
}

/** Adds `queue` and `boost`. */
export function registerSchedulingCommands(program: Command): void {
  program
    .command('queue')
    .description('ranked pending requests with score breakdowns, wait reasons and estimated starts')
    .option('--json', 'print the queue as JSON')
    .action(async (opts: { json?: boolean }) => {
      await queueCommand(opts);
    });
  program
    .command('boost')
    .description("temporarily raise a pipeline's importance (audited; expires by itself)")
    .argument('<workflowId>')
    .requiredOption('--by <n>', 'importance to add (0 < n ≤ 3; ≤ 10 with --admin; base + boosts ≤ 10)')
    .requiredOption('--ttl <duration>', 'how long, e.g. 10m (≤ 1h; ≤ 1d with --admin)')
    .requiredOption('--reason <text>', 'why (kept in the audit)')
    .option('--actor <name>', 'who asks (default: $USER)')
    .option(
      '--admin',
      'sign an admin capability with $QM_ADMIN_TOKEN (lifts the limits; the secret is never sent)',
    )
    .option('--token <secret>', 'the admin secret to sign with (default: $QM_ADMIN_TOKEN; implies --admin)')
    .action(async (id: string, opts: BoostOptions) => {
      await boostCommand(id, opts);
    });
}
