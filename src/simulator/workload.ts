/**
 * Workload files: parsing and validation at the edge. A workload is a cluster, pipelines submitted at
 * given times with their run times, boosts, and background load per node. Every problem is reported
 * with its JSON path; definitions are validated by the same `validateDefinition` as production.
 */
import { readFileSync } from 'node:fs';
import { formatPath } from '../definition/issues';
import type { NormalisedPipelineDefinition } from '../definition/types';
import { validateDefinition } from '../definition/validate';
import { HOST_RESOURCE_NAMES, type ResourceVector } from '../scheduling/types';
import { InvalidWorkloadError, WorkloadReadError, type WorkloadIssue } from './errors';
import { BACKGROUND_METRICS, workloadSchema } from './workload-schema';

/** A worker node of the simulated cluster. */
export interface WorkloadNode {
  /** Node id (unique). */
  readonly id: string;
  /** Host capacity (cores, MiB, devices, MiB/s, Mbit/s). */
  readonly capacity: Readonly<ResourceVector>;
}

/** An importance boost: `amount` added from `at` for `ttlSeconds` seconds. */
export interface WorkloadBoost {
  /** Seconds since the start. */
  readonly at: number;
  /** Importance added (≥ 0). */
  readonly amount: number;
  /** Seconds it lasts (> 0). */
  readonly ttlSeconds: number;
}

/** One submitted pipeline. */
export interface WorkloadSubmission {
  /** Submission time, seconds since the start. */
  readonly at: number;
  /** The validated, normalised definition. */
  readonly definition: NormalisedPipelineDefinition;
  /** Stage id → seconds at the desired allocation (every stage has one). */
  readonly durations: Readonly<Record<string, number>>;
  /** Stage id → seconds the scheduler is told (for backfill and estimates); defaults to `durations`. */
  readonly expectedSeconds: Readonly<Record<string, number>>;
  /** Boosts, in the order given. */
  readonly boosts: readonly WorkloadBoost[];
  /** The job's number in its source (an SWF log's field 1); absent: the submission index. */
  readonly jobId?: number;
}

/** Background usage of one metric: `[seconds, value]` steps in ascending time. */
export type BackgroundSeries = ReadonlyArray<readonly [number, number]>;

/** A validated workload. */
export interface Workload {
  /** Nodes and custom pools. */
  readonly cluster: {
    readonly nodes: readonly WorkloadNode[];
    /** Pool name → capacity. */
    readonly pools: Readonly<Record<string, number>>;
  };
  /** Submissions sorted by `at` (stable: equal times keep file order). */
  readonly submissions: readonly WorkloadSubmission[];
  /** Node id → metric → series. */
  readonly background: Readonly<Record<string, Readonly<Record<string, BackgroundSeries>>>>;
}

const HOST = new Set<string>(HOST_RESOURCE_NAMES);

function pathText(path: ReadonlyArray<string | number>): string {
  const text = formatPath(path);
  return text === '' ? '(root)' : text;
}

interface RawSubmission {
  at: number;
  definition: unknown;
  durations: Record<string, number>;
  expectedSeconds?: Record<string, number> | undefined;
  boosts?: WorkloadBoost[] | undefined;
}

/**
 * Validates an untrusted value (parsed JSON) into a {@link Workload}: the shape (zod), each definition
 * (`validateDefinition`, paths prefixed with `submissions[i].definition`), and the cross references:
 * unique node ids, pools not named like host resources, a duration for every stage and none for unknown
 * stages, background only on known nodes in ascending time, custom resources declared as pools, and no
 * unshardable stage whose minimum exceeds every node's capacity (it could never run).
 * @throws InvalidWorkloadError listing every issue with its JSON path.
 */
export function parseWorkload(raw: unknown): Workload {
  const parsed = workloadSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new InvalidWorkloadError(
      parsed.error.issues.map((i) => ({
        path: pathText(i.path.map((s) => (typeof s === 'symbol' ? String(s) : s))),
        message: i.message,
      })),
    );
  }
  const data = parsed.data;
  const issues: WorkloadIssue[] = [];
  const issue = (path: ReadonlyArray<string | number>, message: string): void => {
    issues.push({ path: pathText(path), message });
  };

  const nodeIds = new Set<string>();
  data.cluster.nodes.forEach((n, i) => {
    if (nodeIds.has(n.id)) issue(['cluster', 'nodes', i, 'id'], `duplicate node id "${n.id}"`);
    nodeIds.add(n.id);
    for (const name of Object.keys(n.capacity)) {
      if (!HOST.has(name))
        issue(
          ['cluster', 'nodes', i, 'capacity', name],
          `not a host resource (${HOST_RESOURCE_NAMES.join(', ')}); declare custom resources in cluster.pools`,
        );
    }
  });
  const pools = data.cluster.pools ?? {};
  for (const name of Object.keys(pools)) {
    if (HOST.has(name)) issue(['cluster', 'pools', name], 'a host resource cannot be a pool');
  }
  const maxCapacity: Record<string, number> = {};
  for (const n of data.cluster.nodes) {
    for (const [name, v] of Object.entries(n.capacity))
      maxCapacity[name] = Math.max(maxCapacity[name] ?? 0, v);
  }

  const submissions: Array<WorkloadSubmission & { index: number }> = [];
  (data.submissions as RawSubmission[]).forEach((s, i) => {
    const base = ['submissions', i];
    const result = validateDefinition(s.definition);
    if (!result.ok) {
      for (const d of result.issues) issue([...base, 'definition', ...d.path], d.message);
      return;
    }
    const def = result.definition;
    const stageIds = new Set(def.stages.map((st) => st.id));
    for (const key of Object.keys(s.durations)) {
      if (!stageIds.has(key)) issue([...base, 'durations', key], `no stage "${key}" in "${def.name}"`);
    }
    for (const key of Object.keys(s.expectedSeconds ?? {})) {
      if (!stageIds.has(key)) issue([...base, 'expectedSeconds', key], `no stage "${key}" in "${def.name}"`);
    }
    def.stages.forEach((st, j) => {
      if (s.durations[st.id] === undefined)
        issue([...base, 'durations'], `missing the duration of stage "${st.id}"`);
      const minimum = st.resources?.minimum ?? {};
      for (const [name, v] of Object.entries(minimum)) {
        const path = [...base, 'definition', 'stages', j, 'resources', 'minimum', name];
        if (HOST.has(name)) {
          if (v > (maxCapacity[name] ?? 0) + 1e-9 && st.shard === undefined)
            issue(path, `needs ${v} but no node has more than ${maxCapacity[name] ?? 0}: it could never run`);
        } else if (pools[name] === undefined) {
          issue(path, `custom resource "${name}" has no pool in cluster.pools`);
        }
      }
    });
    submissions.push({
      index: i,
      at: s.at,
      definition: def,
      durations: s.durations,
      expectedSeconds: { ...s.durations, ...(s.expectedSeconds ?? {}) },
      boosts: s.boosts ?? [],
    });
  });

  const background: Record<string, Record<string, BackgroundSeries>> = {};
  for (const [nodeId, metrics] of Object.entries(data.background ?? {})) {
    if (!nodeIds.has(nodeId)) issue(['background', nodeId], `no node "${nodeId}" in cluster.nodes`);
    const out: Record<string, BackgroundSeries> = {};
    for (const metric of BACKGROUND_METRICS) {
      const points = metrics[metric];
      if (points === undefined) continue;
      for (let k = 1; k < points.length; k++) {
        if ((points[k] as [number, number])[0] <= (points[k - 1] as [number, number])[0])
          issue(['background', nodeId, metric, k, 0], 'times must be strictly ascending');
      }
      out[metric] = points;
    }
    background[nodeId] = out;
  }

  if (issues.length > 0) throw new InvalidWorkloadError(issues);
  submissions.sort((a, b) => a.at - b.at || a.index - b.index);
  return {
    cluster: { nodes: data.cluster.nodes, pools },
    submissions: submissions.map(({ index: _index, ...rest }) => rest),
    background,
  };
}

/**
 * Reads and validates a workload JSON file.
 * @throws WorkloadReadError when the file cannot be read or is not JSON; InvalidWorkloadError.
 */
export function loadWorkloadFile(file: string): Workload {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WorkloadReadError(file, err instanceof Error ? err.message : String(err));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new WorkloadReadError(file, err instanceof Error ? err.message : String(err));
  }
  return parseWorkload(raw);
}
