/**
 * The dependency graph of a pipeline: duplicate ids, dangling or self references, cycles, and a
 * stable topological order. Pure (imported by workflows). Stage ids are kept in `Map`s, never used as
 * object keys, so ids like `__proto__` or `constructor` are ordinary.
 */
import { InvalidDefinitionError } from './errors';
import { type DefinitionIssue, didYouMean, formatPath, makeIssue } from './issues';
import { type StageDefinition } from './types';

/** The part of a stage the graph needs. */
export type GraphStage = Pick<StageDefinition, 'id' | 'dependsOn'>;

/** Above this many stages the graph is not checked (the schema already rejects the definition). */
const MAX_CHECKED_STAGES = 1_000;

interface Graph {
  /** Stage id per index; `undefined` when the entry has no string id. */
  ids: Array<string | undefined>;
  /** For each stage index, the indices it depends on (deduplicated, self and unknown removed). */
  edges: number[][];
  issues: DefinitionIssue[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the graph from stages that may not be valid yet: entries that are not objects, ids that are
 * not strings and dependencies that are not strings are skipped (the schema reports them).
 */
function readGraph(stages: readonly unknown[], base: ReadonlyArray<string | number>): Graph {
  const ids = stages.map((stage) =>
    isRecord(stage) && typeof stage['id'] === 'string' ? stage['id'] : undefined,
  );
  const issues: DefinitionIssue[] = [];
  const firstIndex = new Map<string, number>();
  ids.forEach((id, i) => {
    if (id === undefined) return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, i);
    else
      issues.push(
        makeIssue(
          'duplicate_id',
          [...base, i, 'id'],
          `duplicate stage id ${JSON.stringify(id)} (first used at ${formatPath([...base, first])})`,
          id,
        ),
      );
  });
  const known = [...firstIndex.keys()];
  const edges = stages.map((stage, i) => {
    const out: number[] = [];
    const deps = isRecord(stage) ? stage['dependsOn'] : undefined;
    if (!Array.isArray(deps)) return out;
    const seen = new Map<string, number>();
    deps.forEach((dep: unknown, j) => {
      if (typeof dep !== 'string') return;
      const path = [...base, i, 'dependsOn', j];
      const earlier = seen.get(dep);
      if (earlier !== undefined) {
        issues.push(
          makeIssue(
            'duplicate_dependency',
            path,
            `${JSON.stringify(dep)} is listed twice (first at dependsOn[${earlier}])`,
            dep,
          ),
        );
        return;
      }
      seen.set(dep, j);
      if (dep === ids[i]) {
        issues.push(
          makeIssue('self_dependency', path, `a stage cannot depend on itself (${JSON.stringify(dep)})`, dep),
        );
        return;
      }
      const target = firstIndex.get(dep);
      if (target === undefined) {
        const hint = didYouMean(dep, known);
        const suffix = hint === undefined ? '' : ` — did you mean ${JSON.stringify(hint)}?`;
        issues.push(
          makeIssue(
            'unknown_dependency',
            path,
            `${JSON.stringify(dep)} is not a stage of this pipeline${suffix}`,
            dep,
          ),
        );
        return;
      }
      out.push(target);
    });
    return out;
  });
  return { ids, edges, issues };
}

/**
 * Strongly connected components with more than one node (Tarjan, iterative so deep chains cannot
 * overflow the stack). Each component is returned as its node indices.
 */
function cyclicComponents(edges: readonly number[][]): number[][] {
  const n = edges.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const { node } = frame;
      const targets = edges[node] ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++] ?? 0;
        if (index[target] === -1) {
          index[target] = low[target] = counter++;
          stack.push(target);
          onStack[target] = true;
          work.push({ node: target, next: 0 });
        } else if (onStack[target]) {
          low[node] = Math.min(low[node] ?? 0, index[target] ?? 0);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent.node] = Math.min(low[parent.node] ?? 0, low[node] ?? 0);
      if (low[node] === index[node]) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack[member] = false;
          component.push(member);
        } while (member !== node);
        if (component.length > 1) components.push(component.sort((a, b) => a - b));
      }
    }
  }
  return components.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
}

/**
 * The shortest cycle through `start` that stays inside `members` (breadth-first, following
 * dependencies in declaration order), as indices ending with `start` again.
 */
function cycleThrough(start: number, members: ReadonlySet<number>, edges: readonly number[][]): number[] {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? start;
    for (const target of edges[node] ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: number | undefined = node; at !== undefined && at !== start; at = parent.get(at))
          path.push(at);
        path.push(start);
        // `path` was collected backwards from the closing edge: start, node, …, start.
        return [start, ...path.slice(1, -1).reverse(), start];
      }
      if (!parent.has(target)) {
        parent.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** Every cycle to report: one per cyclic component, starting at its earliest-declared stage. */
function cyclesOf(graph: Graph): number[][] {
  return cyclicComponents(graph.edges).map((component) =>
    cycleThrough(component[0] ?? 0, new Set(component), graph.edges),
  );
}

function cycleText(cycle: readonly number[], ids: ReadonlyArray<string | undefined>): string {
  return cycle.map((i) => ids[i] ?? `#${i}`).join(' → ');
}

/**
 * Checks the dependency graph of `stages`, which may not be valid yet (entries, ids or
 * dependencies of the wrong type are skipped; the schema reports those). Reports, at paths under
 * `basePath`: `duplicate_id` at `stages[i].id`; `duplicate_dependency`, `self_dependency` and
 * `unknown_dependency` (with a did-you-mean hint) at `stages[i].dependsOn[j]`; and one
 * `dependency_cycle` per cyclic group of stages at `stages[i].dependsOn`, where `i` is the group's
 * earliest-declared stage, with the loop in the message (`a → b → c → a`).
 * Returns `[]` for a non-array or more than 1,000 stages. Never throws.
 *
 * @param stages the `stages` value of a definition (possibly malformed)
 * @param basePath the path of `stages` @default ['stages']
 */
export function checkGraph(
  stages: unknown,
  basePath: ReadonlyArray<string | number> = ['stages'],
): DefinitionIssue[] {
  if (!Array.isArray(stages) || stages.length > MAX_CHECKED_STAGES) return [];
  const graph = readGraph(stages, basePath);
  const issues = [...graph.issues];
  for (const cycle of cyclesOf(graph)) {
    const start = cycle[0] ?? 0;
    const stage: unknown = stages[start];
    issues.push(
      makeIssue(
        'dependency_cycle',
        [...basePath, start, 'dependsOn'],
        `dependency cycle: ${cycleText(cycle, graph.ids)}`,
        isRecord(stage) ? stage['dependsOn'] : undefined,
      ),
    );
  }
  return issues;
}

/**
 * Finds a dependency cycle, following `dependsOn` from a stage back to itself: `['a', 'b', 'c', 'a']`
 * means `a` depends on `b`, `b` on `c` and `c` on `a`. A stage that depends on itself is the cycle
 * `['a', 'a']`. Returns the cycle through the earliest-declared stage that is on one (the shortest
 * such), or `undefined` when the graph is acyclic. Unknown dependencies are ignored. Never throws.
 */
export function findCycle(definition: { stages: readonly GraphStage[] }): string[] | undefined {
  const graph = readGraph(definition.stages, ['stages']);
  const selfLoop = definition.stages.findIndex((stage) => stage.dependsOn?.includes(stage.id) === true);
  const cycles = cyclesOf(graph);
  const first = cycles[0];
  if (selfLoop !== -1 && (first === undefined || selfLoop < (first[0] ?? 0))) {
    const id = definition.stages[selfLoop]?.id ?? '';
    return [id, id];
  }
  return first?.map((i) => graph.ids[i] ?? `#${i}`);
}

/**
 * Orders stage ids so that every stage comes after the stages it depends on; among stages that are
 * ready at the same time, the one declared first comes first (so an already-ordered pipeline keeps
 * its order).
 *
 * @throws InvalidDefinitionError when the graph has a cycle, a duplicate id, or a dependency that
 * names no stage (the issues are those of {@link checkGraph}).
 */
export function topologicalOrder(definition: { stages: readonly GraphStage[] }): string[] {
  const issues = checkGraph(definition.stages);
  if (issues.length > 0) throw new InvalidDefinitionError(issues);
  const { ids, edges } = readGraph(definition.stages, ['stages']);
  const n = ids.length;
  const waiting = edges.map((deps) => deps.length);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  edges.forEach((deps, i) => deps.forEach((dep) => dependents[dep]?.push(i)));
  // Ready stage indices, sorted descending so that `pop()` takes the earliest-declared one.
  const ready: number[] = [];
  const insert = (i: number): void => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ready[mid] ?? 0) > i) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, i);
  };
  waiting.forEach((count, i) => count === 0 && insert(i));
  const order: string[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(ids[next] ?? '');
    for (const dependent of dependents[next] ?? []) {
      const left = (waiting[dependent] ?? 0) - 1;
      waiting[dependent] = left;
      if (left === 0) insert(dependent);
    }
  }
  return order;
}
