import type { PipelineDefinition, StageDefinition } from '../definition/types';
import type { JsonValue } from '../handlers/types';
import type { ShardCoverage, ShardState } from '../sharding/tracker';
import { cell, fencedTable } from './text-table';
import type { PipelineResult, PipelineState, PipelineStatus, StageState, StageStatus } from './types';

function isDone(status: StageStatus): boolean {
  return status === 'completed' || status === 'partial';
}

/** Stages in these states will not change any more. */
function isFinal(status: StageStatus): boolean {
  return isDone(status) || status === 'failed' || status === 'skipped' || status === 'cancelled';
}

/** Wait reasons and errors listed under the stage table (the `status` query has them all). */
const MAX_NOTES = 50;

/** Text shown as-is in markdown: characters markdown would interpret are escaped. */
function mdText(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** `2026-01-01T12:00:03.000Z` → `12:00:03Z` (today's estimates need no date), else the ISO text. */
function shortTime(iso: string, now: Date | undefined): string {
  return now !== undefined && iso.slice(0, 10) === now.toISOString().slice(0, 10)
    ? `${iso.slice(11, 19)}Z`
    : iso.replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The pipeline's state machine, pure: which stages are ready, what each did, what to report.
 * The workflow drives it and owns all waiting; this class never reads a clock (times are passed in).
 */
export class PipelineRun {
  private readonly stages = new Map<string, StageState>();
  private failed = false;
  private cancelledRun = false;

  constructor(
    readonly definition: PipelineDefinition,
    readonly importance: number,
  ) {
    for (const s of definition.stages) this.stages.set(s.id, { status: 'pending', attempts: 0 });
  }

  /**
   * Every stage's state, to carry across a continue-as-new (taken when nothing is in flight: every stage is
   * pending or finished).
   */
  carry(): Record<string, StageState> {
    return Object.fromEntries([...this.stages].map(([id, s]) => [id, { ...s }]));
  }

  /**
   * Restores stage states carried from the previous run (ids not in the definition are ignored; a stage that
   * was in flight — never the case at a continue-as-new — would be pending again).
   */
  restore(carried: Readonly<Record<string, StageState>>): void {
    for (const [id, s] of Object.entries(carried)) {
      if (!this.stages.has(id)) continue;
      const inFlight = s.status === 'waiting' || s.status === 'running';
      this.stages.set(id, inFlight ? { status: 'pending', attempts: s.attempts } : { ...s });
      if (s.status === 'failed') this.failed = true;
    }
  }

  /** The stage's state. @throws Error for an id not in the definition (a bug). */
  state(id: string): StageState {
    const s = this.stages.get(id);
    if (s === undefined) throw new Error(`no stage "${id}"`);
    return s;
  }

  /**
   * Stages whose dependencies all completed (fully or, sharded, partially) and which have not started;
   * none once a stage failed.
   */
  ready(): StageDefinition[] {
    if (this.failed || this.cancelledRun) return [];
    return this.definition.stages.filter(
      (s) =>
        this.state(s.id).status === 'pending' &&
        (s.dependsOn ?? []).every((d) => isDone(this.state(d).status)),
    );
  }

  /** True while some stage is waiting for resources or running. */
  anyRunning(): boolean {
    return [...this.stages.values()].some((s) => s.status === 'running' || s.status === 'waiting');
  }

  /** Outputs of `stage`'s dependencies, by id. */
  depsOutputs(stage: StageDefinition): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    for (const d of stage.dependsOn ?? []) out[d] = this.state(d).output ?? null;
    return out;
  }

  /**
   * Marks a ready stage launched (waiting to be admitted), so {@link ready} no longer lists it: call it in
   * the same synchronous step that starts the stage, so a stage is never launched twice.
   * @returns false (and changes nothing) when the stage is not `pending`: it was launched already.
   */
  launched(id: string): boolean {
    const s = this.state(id);
    if (s.status !== 'pending') return false;
    s.status = 'waiting';
    return true;
  }

  /**
   * Marks a stage waiting for resources, with the scheduler's reason and estimated start (ISO-8601, `null`
   * when unknown) when known.
   */
  waiting(id: string, reason: string | undefined, estimatedStartAt?: string | null): void {
    const s = this.state(id);
    s.status = 'waiting';
    if (reason !== undefined) s.waitReason = reason;
    if (estimatedStartAt !== undefined) s.estimatedStartAt = estimatedStartAt;
  }

  /**
   * Marks a stage running at `now` (each attempt), with its allocation and node. `attempts` counts the
   * attempt in progress: `attempt` when given, else one more than before.
   */
  started(id: string, now: Date, allocation?: Record<string, number>, node?: string, attempt?: number): void {
    const s = this.state(id);
    s.status = 'running';
    s.startedAt = now.toISOString();
    s.attempts = attempt ?? s.attempts + 1;
    delete s.waitReason;
    delete s.estimatedStartAt;
    if (allocation !== undefined) s.allocation = allocation;
    if (node !== undefined) s.node = node;
    else delete s.node;
  }

  /** A running stage now holds `allocation` (it accepted a smaller one); ignored unless it is running. */
  reallocated(id: string, allocation: Record<string, number>): void {
    const s = this.state(id);
    if (s.status === 'running') s.allocation = { ...allocation };
  }

  /** Marks a stage completed with its output. */
  completed(id: string, now: Date, output: JsonValue, attempts: number): void {
    Object.assign(this.state(id), { status: 'completed', output, attempts, completedAt: now.toISOString() });
  }

  /** Records a sharded stage's shards (each one's state and node), replacing the previous list. */
  shards(id: string, shards: ShardState[]): void {
    this.state(id).shards = shards;
  }

  /**
   * Marks a sharded stage ended with its reduced `output`: `completed` when `coverage` has every shard,
   * else `partial` (its dependents still run; the pipeline's result becomes `partial`).
   */
  reassembled(id: string, now: Date, output: JsonValue, coverage: ShardCoverage, attempts: number): void {
    const status = coverage.completed.length === coverage.shards ? 'completed' : 'partial';
    Object.assign(this.state(id), { status, output, coverage, attempts, completedAt: now.toISOString() });
  }

  /** Marks a stage failed; no further stage will become ready. */
  failedStage(id: string, now: Date, error: string, attempts: number, coverage?: ShardCoverage): void {
    Object.assign(this.state(id), {
      status: 'failed',
      error,
      attempts,
      completedAt: now.toISOString(),
      ...(coverage ? { coverage } : {}),
    });
    this.failed = true;
  }

  /** After a failure: marks never-started stages skipped. */
  skipRemaining(): void {
    for (const s of this.stages.values()) {
      if (s.status === 'pending') Object.assign(s, { status: 'skipped', error: 'an earlier stage failed' });
    }
  }

  /**
   * The pipeline was cancelled: every stage not yet ended (pending, waiting, running) becomes `cancelled`,
   * and so does the pipeline. Call once its running stages have stopped.
   */
  cancelled(now: Date): void {
    this.cancelledRun = true;
    for (const s of this.stages.values()) {
      if (isFinal(s.status)) continue;
      const started = s.status === 'running';
      Object.assign(s, { status: 'cancelled', error: 'the pipeline was cancelled' });
      if (started) s.completedAt = now.toISOString();
      delete s.waitReason;
      delete s.estimatedStartAt;
    }
  }

  /** The overall state: `partial` once every stage is done and some sharded stage is partial. */
  overall(): PipelineState {
    if (this.cancelledRun) return 'cancelled';
    if (this.failed) return this.anyRunning() ? 'running' : 'failed';
    const all = [...this.stages.values()];
    if (!all.every((s) => isDone(s.status))) return 'running';
    return all.some((s) => s.status === 'partial') ? 'partial' : 'completed';
  }

  /** Ids of failed stages, in definition order. */
  failedStages(): string[] {
    return this.definition.stages.filter((s) => this.state(s.id).status === 'failed').map((s) => s.id);
  }

  /** The highest stage priority (the `QmPriority` search attribute). */
  highestPriority(): number {
    return Math.max(...this.definition.stages.map((s) => s.priority));
  }

  /** A snapshot for the `status` query. */
  status(): PipelineStatus {
    return {
      name: this.definition.name,
      state: this.overall(),
      importance: this.importance,
      stages: this.snapshot(),
    };
  }

  /** The final result. @throws Error while stages still run (a bug). */
  result(): PipelineResult {
    const state = this.overall();
    if (state === 'running') throw new Error('the pipeline is still running');
    return { status: state, stages: this.snapshot() };
  }

  /**
   * The Web UI's "current details": a headline (name, state, importance, progress — the same whichever
   * client started the run), an aligned table of stages in a fenced block — status, attempts, node,
   * allocation — and below it one line per stage that waits (why, and its estimated start) or failed (its
   * error). Bounded: cells cut to 40–200 characters, at most 50 lines of reasons. `now` shortens today's times.
   */
  markdown(now?: Date, importance: number = this.importance): string {
    const all = this.definition.stages;
    const done = all.filter((s) => isDone(this.state(s.id).status)).length;
    const notes: string[] = [];
    const rows = all.map((s) => {
      const st = this.state(s.id);
      const alloc = st.allocation
        ? Object.entries(st.allocation)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : '';
      const where = st.shards
        ? `${st.shards.filter((x) => x.status === 'completed').length}/${st.shards.length} shards done`
        : (st.node ?? '');
      if (st.status === 'waiting') {
        const eta =
          st.estimatedStartAt === undefined
            ? ''
            : ` · est. start ${st.estimatedStartAt === null ? 'unknown' : shortTime(st.estimatedStartAt, now)}`;
        notes.push(
          `- **${mdText(s.id)}** waits: ${mdText(cell(st.waitReason ?? 'for the scheduler', 200))}${eta}`,
        );
      } else if (st.error !== undefined)
        notes.push(`- **${mdText(s.id)}** ${st.status}: ${mdText(cell(st.error, 200))}`);
      return [s.id, String(s.priority), st.status, String(st.attempts), cell(where, 40), cell(alloc, 40)];
    });
    return [
      `**${cell(this.definition.name, 200)}** — ${this.overall()} · ${done}/${all.length} stage${
        all.length === 1 ? '' : 's'
      } done · importance ${importance}`,
      '',
      fencedTable(['STAGE', 'PRIO', 'STATUS', 'ATTEMPTS', 'NODE', 'ALLOCATION'], rows),
      // Reasons and errors as a list below the table: they wrap in the Web UI's narrow panel, a column would not.
      ...(notes.length > 0 ? ['', ...notes.slice(0, MAX_NOTES)] : []),
      ...(notes.length > MAX_NOTES ? [`- … and ${notes.length - MAX_NOTES} more (query \`status\`)`] : []),
    ].join('\n');
  }

  private snapshot(): Record<string, StageState> {
    const out: Record<string, StageState> = {};
    for (const [id, s] of this.stages) out[id] = { ...s };
    return out;
  }
}
