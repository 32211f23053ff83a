/**
 * Successor grants: admission ahead of a release. A stage granted capacity does not use it at once — its
 * requester learns of the grant, its workflow schedules the stage, the node polls it — and at load that pickup
 * (240–630 ms measured on a dev server) idles capacity after every release. A successor grant hides it: the
 * request at the head of the queue is granted *behind* a held reservation expected to end soon, on the same
 * node, carved from that reservation's grant; its pickup overlaps the predecessor's run, and it starts the
 * moment the predecessor ends (the ledger moves the capacity in the statement that ends it). Capacity is
 * counted once — the predecessor's — so nothing is overcommitted even if the predecessor overruns: the
 * successor waits for it.
 */
import { EPSILON } from './model';
import { expectedRunSeconds } from './runtime';
import type {
  ClusterSnapshot,
  CycleResult,
  Decision,
  GrantDecision,
  NodeView,
  RankedEntry,
  ResourceVector,
  RunningGrant,
} from './types';

/**
 * Grants the head of the waiting queue behind held reservations expected to end within `horizonMs` of `now`,
 * after a cycle (`result`, from `runCycle` or `IncrementalCycle` over the same `snapshot`) has placed what
 * fits on free capacity. In rank order, each request the cycle left waiting takes the predecessor that ends
 * soonest among those it fits in — `min(desired, predecessor's grant)` per resource, at least its `minimum`,
 * on a usable node, not the node it should avoid while another would do — and becomes a grant with `behind`;
 * the first waiting request that finds none ends the pass, so nothing overtakes it this way (requests the
 * cycle granted or split keep their decisions). A predecessor is eligible when its expected end is known and
 * within `[now − horizonMs, now + horizonMs]` (one that overran by more is not trusted to end soon), and it is
 * not itself followed (the caller leaves a followed grant's `expectedEndAt` out: its capacity is promised).
 * Successors chain: `tails` are the ends of existing chains (successors nobody follows yet, with their
 * projected ends: see `successorTails`), and a request granted behind one here, when its run time is known,
 * becomes a candidate itself (ending its run time after its predecessor), so the horizon bounds a chain's
 * length: about `horizonMs / run time` links.
 * Pure: returns a new result (decisions and queue rows of the requests granted behind replaced), or `result`
 * itself when nothing changed.
 * @param horizonMs - how far ahead of a predecessor's expected end, ms (finite, ≥ 0; 0: none is granted)
 * @param tails - the ends of successor chains, eligible as predecessors like running grants. @default none
 * @throws RangeError for a negative or non-finite `horizonMs`.
 */
export function assignSuccessors(
  snapshot: ClusterSnapshot,
  result: CycleResult,
  now: Date,
  horizonMs: number,
  tails: readonly RunningGrant[] = [],
): CycleResult {
  if (!Number.isFinite(horizonMs) || horizonMs < 0)
    throw new RangeError(`horizonMs must be a finite number >= 0, got ${horizonMs}`);
  if (horizonMs === 0) return result;
  const nowMs = now.getTime();
  const usable = new Map(snapshot.nodes.filter((n) => !n.stale).map((n) => [n.id, n]));
  const eligible = (g: RunningGrant): boolean => {
    const end = g.expectedEndAt?.getTime();
    return (
      end !== undefined &&
      Number.isFinite(end) &&
      end <= nowMs + horizonMs &&
      end >= nowMs - horizonMs &&
      usable.has(g.nodeId)
    );
  };
  const soonerFirst = (a: RunningGrant, b: RunningGrant): number => {
    const d = (a.expectedEndAt as Date).getTime() - (b.expectedEndAt as Date).getTime();
    return d !== 0 ? d : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  };
  const candidates = [...snapshot.running, ...tails].filter(eligible).sort(soonerFirst);
  if (candidates.length === 0) return result;
  const pendingByKey = new Map(snapshot.pending.map((p) => [p.key, p]));
  let decisions: Decision[] | undefined;
  let queue: RankedEntry[] | undefined;
  for (let rank = 0; rank < result.decisions.length && candidates.length > 0; rank++) {
    const d = result.decisions[rank] as Decision;
    if (d.kind !== 'wait') continue;
    const req = pendingByKey.get(d.key);
    if (req === undefined) break;
    const fits = (g: RunningGrant): ResourceVector | undefined => carve(req.desired, req.minimum, g.granted);
    let at = candidates.findIndex((g) => g.nodeId !== req.avoidNodeId && fits(g) !== undefined);
    if (at < 0) at = candidates.findIndex((g) => fits(g) !== undefined);
    if (at < 0) break;
    const predecessor = candidates.splice(at, 1)[0] as RunningGrant;
    const granted = fits(predecessor) as ResourceVector;
    const reduced = Object.entries(req.desired).some(([r, v]) => (granted[r] ?? 0) + EPSILON < v);
    const grant: GrantDecision = {
      kind: 'grant',
      key: d.key,
      nodeId: predecessor.nodeId,
      // Every candidate is on a usable node (`eligible`).
      taskQueue: (usable.get(predecessor.nodeId) as NodeView).taskQueue,
      granted,
      reduced,
      behind: predecessor.key,
    };
    // The request just granted behind is a chain's new end: the next one may follow it, within the horizon.
    if (req.expectedSeconds !== undefined) {
      const run = expectedRunSeconds(req.expectedSeconds, granted, req.desired) * 1000;
      const tail: RunningGrant = {
        key: req.key,
        nodeId: predecessor.nodeId,
        granted,
        minimum: req.minimum,
        desired: req.desired,
        priority: req.priority,
        importance: req.importance,
        expectedEndAt: new Date((predecessor.expectedEndAt as Date).getTime() + run),
      };
      if (eligible(tail)) {
        const after = candidates.findIndex((g) => soonerFirst(tail, g) < 0);
        candidates.splice(after < 0 ? candidates.length : after, 0, tail);
      }
    }
    decisions ??= [...result.decisions];
    queue ??= [...result.queue];
    decisions[rank] = grant;
    const row = queue[rank];
    if (row !== undefined && row.key === d.key)
      queue[rank] = {
        ...row,
        decision: 'grant',
        reason: `${reduced ? 'reduced, ' : ''}behind ${predecessor.key} on ${predecessor.nodeId} (expected to end ${Math.max(0, (predecessor.expectedEndAt as Date).getTime() - nowMs)} ms from now)`,
      };
  }
  if (decisions === undefined || queue === undefined) return result;
  const holdsLeft = new Set(
    decisions.flatMap((x) => (x.kind === 'wait' && x.hold !== undefined ? [x.key] : [])),
  );
  return { decisions, queue, holds: result.holds.filter((h) => holdsLeft.has(h.key)) };
}

/**
 * What a request gets carved from `held`: `min(desired, held)` per resource of `desired`; undefined when that
 * is below its `minimum` anywhere (host and pool resources alike: both come back when the holder ends). Every
 * key of `minimum` is one of `desired` (the snapshot's validation, which runs in the cycle before this).
 */
function carve(
  desired: Readonly<ResourceVector>,
  minimum: Readonly<ResourceVector>,
  held: Readonly<ResourceVector>,
): ResourceVector | undefined {
  const out: ResourceVector = {};
  for (const [r, want] of Object.entries(desired)) {
    const got = Math.min(want, held[r] ?? 0);
    if (got + EPSILON < (minimum[r] ?? 0)) return undefined;
    out[r] = got;
  }
  return out;
}
