import type { Command } from 'commander';
import type { Database } from '../../ledger/db';
import { setPoolCapacity, type PoolRecord } from '../../ledger/pools';
import { snapshot } from '../../ledger/snapshot';
import { DEFAULT_STALE_AFTER_MS, type ResourceVector } from '../../ledger/types';
import { formatVector } from '../../ledger/vectors';
import { UsageError, withDatabase } from '../context';
import { formatTable } from '../output';
import { forecastUsage } from '../../admission/cluster-snapshot';

/** One row of `qm nodes --json`. */
export interface NodeListing {
  /** Node id. */
  id: string;
  /** Its task queue. */
  taskQueue: string;
  /** Host capacity. */
  capacity: ResourceVector;
  /** Σ granted per resource. */
  granted: ResourceVector;
  /** `capacity − granted` per resource. */
  free: ResourceVector;
  /** No heartbeat within the stale threshold. */
  stale: boolean;
  /** Granted more than its capacity (it re-registered smaller): nothing new is granted there until grants fit. */
  overcommitted: boolean;
  /** Usage forecast 10 s ahead per monitored resource (`{ value, upper }`), or null without fresh monitor data. */
  forecast: Record<string, { value: number; upper: number }> | null;
}

/** One row of `qm pools --json`. */
export interface PoolListing {
  /** Pool name. */
  name: string;
  /** Declared capacity. */
  capacity: number;
  /** Σ granted. */
  granted: number;
  /** `capacity − granted`. */
  free: number;
}

/** Options of `qm nodes`. */
export interface NodesOptions {
  /** Print JSON instead of a table. @default false */
  json?: boolean;
  /** A node silent longer than this is stale. @default DEFAULT_STALE_AFTER_MS (10 s) */
  staleAfterMs?: number;
}

/**
 * The nodes as `qm nodes` shows them: a table (id, task queue, capacity, granted, free, stale, overcommitted)
 * or, with `json`, an array of {@link NodeListing}. Staleness is judged on the database's clock unless `now`
 * is given (tests).
 * @throws DatabaseUnavailableError.
 */
export async function nodesOutput(db: Database, options: NodesOptions, at?: Date): Promise<string> {
  const snap = await snapshot(db, at, { staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS });
  const now = snap.now;
  const nodes: NodeListing[] = snap.nodes.map((n) => ({
    id: n.id,
    taskQueue: n.taskQueue,
    capacity: n.capacity,
    granted: n.granted,
    free: n.free,
    stale: n.stale,
    overcommitted: n.overcommitted,
    forecast:
      (forecastUsage(n.forecast, n.usageAt, now, 30_000) as NodeListing['forecast'] | undefined) ?? null,
  }));
  if (options.json) return `${JSON.stringify(nodes, null, 2)}\n`;
  if (nodes.length === 0) return 'no nodes registered (start a worker: qm worker)\n';
  return formatTable(
    ['ID', 'TASK QUEUE', 'CAPACITY', 'GRANTED', 'FREE', 'USAGE +10s (upper)', 'STALE', 'OVERCOMMITTED'],
    nodes.map((n) => [
      n.id,
      n.taskQueue,
      formatVector(n.capacity),
      formatVector(n.granted),
      formatVector(n.free),
      n.forecast
        ? Object.entries(n.forecast)
            .map(([r, f]) => `${r}=${+f.value.toFixed(1)} (${+f.upper.toFixed(1)})`)
            .join(' ')
        : '-',
      n.stale ? 'yes' : 'no',
      n.overcommitted ? 'yes' : 'no',
    ]),
  );
}

/**
 * The custom pools as `qm pools` shows them: a table or, with `json`, an array of {@link PoolListing}.
 * @throws DatabaseUnavailableError.
 */
export async function poolsOutput(db: Database, options: { json?: boolean }, now: Date): Promise<string> {
  const pools: PoolListing[] = (await snapshot(db, now)).pools.map((p) => ({
    name: p.name,
    capacity: p.capacity,
    granted: p.granted,
    free: p.free,
  }));
  if (options.json) return `${JSON.stringify(pools, null, 2)}\n`;
  if (pools.length === 0) return 'no pools declared (declare one: qm pools set NAME=N)\n';
  return formatTable(
    ['NAME', 'CAPACITY', 'GRANTED', 'FREE'],
    pools.map((p) => [p.name, String(p.capacity), String(p.granted), String(p.free)]),
  );
}

/**
 * Parses `NAME=N` assignments of `qm pools set`.
 * @throws UsageError naming the bad assignment (no `=`, empty name, or N not a finite number ≥ 0).
 */
export function parsePoolAssignments(
  assignments: readonly string[],
): Array<{ name: string; capacity: number }> {
  if (assignments.length === 0) throw new UsageError('qm pools set needs at least one NAME=N');
  return assignments.map((a) => {
    const eq = a.lastIndexOf('=');
    const name = eq > 0 ? a.slice(0, eq).trim() : '';
    const text = eq > 0 ? a.slice(eq + 1).trim() : '';
    const capacity = Number(text);
    if (name === '' || text === '' || !Number.isFinite(capacity) || capacity < 0) {
      throw new UsageError(`"${a}" is not NAME=N with N a number >= 0 (e.g. db-connections=20)`);
    }
    return { name, capacity };
  });
}

/**
 * `qm pools set NAME=N...`: declares or resizes each pool (each in its own transaction, in order).
 * @returns one line per pool.
 * @throws UsageError for a malformed assignment (nothing written); CapacityBelowGrantedError,
 *   InvalidLedgerArgumentError (a host resource name); DatabaseUnavailableError.
 */
export async function poolsSetOutput(
  db: Database,
  assignments: readonly string[],
  now: Date,
): Promise<string> {
  const parsed = parsePoolAssignments(assignments);
  const done: PoolRecord[] = [];
  for (const { name, capacity } of parsed) done.push(await setPoolCapacity(db, name, capacity, now));
  return done
    .map((p) => `pool ${p.name}: capacity ${p.capacity} (granted ${p.granted}, free ${p.free})\n`)
    .join('');
}

/** The action of `qm nodes`: prints {@link nodesOutput} for the CLI's database. */
export async function nodesAction(options: NodesOptions): Promise<void> {
  process.stdout.write(await withDatabase((db) => nodesOutput(db, options)));
}

/** The action of `qm pools`: prints {@link poolsOutput}. */
export async function poolsAction(options: { json?: boolean }): Promise<void> {
  process.stdout.write(await withDatabase((db) => poolsOutput(db, options, new Date())));
}

/** The action of `qm pools set`: prints {@link poolsSetOutput}. */
export async function poolsSetAction(assignments: string[]): Promise<void> {
  parsePoolAssignments(assignments); // usage errors before connecting
  process.stdout.write(await withDatabase((db) => poolsSetOutput(db, assignments, new Date())));
}

/** Adds `qm nodes [--json]`, `qm pools [--json]` and `qm pools set NAME=N...`. */
export function registerLedgerCommands(program: Command): void {
  program
    .command('nodes')
    .description('list worker nodes: capacity, granted, free, stale, overcommitted')
    .option(
      '--json',
      'print JSON: [{ id, taskQueue, capacity, granted, free, stale, overcommitted, forecast }]',
    )
    .option(
      '--stale-after-ms <ms>',
      'a node silent longer than this is stale',
      (v) => Number(v),
      DEFAULT_STALE_AFTER_MS,
    )
    .action((options: { json?: boolean; staleAfterMs: number }) =>
      nodesAction({ json: options.json, staleAfterMs: options.staleAfterMs }),
    );
  const pools = program
    .command('pools')
    .description('list custom resource pools: capacity, granted, free')
    .option('--json', 'print JSON: [{ name, capacity, granted, free }]')
    .action((options: { json?: boolean }) => poolsAction(options));
  pools
    .command('set')
    .description('declare or resize custom pools, e.g. qm pools set db-connections=20 license:matlab=2')
    .argument('<assignments...>', 'NAME=N pairs')
    .action((assignments: string[]) => poolsSetAction(assignments));
}
