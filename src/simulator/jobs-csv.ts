/**
 * Per-job output of a simulation (`qm simulate … --jobs-out FILE.csv`): one row per stage (an SWF job is a
 * one-stage pipeline), seconds on the simulation clock, so a schedule can be checked job for job against
 * another simulator.
 */
import type { SimulationTrace } from './trace';

/** The CSV header, in column order. */
export const JOB_CSV_COLUMNS = [
  'job',
  'pipeline',
  'stage',
  'priority',
  'submit',
  'start',
  'end',
  'procs',
  'run',
] as const;

function cell(x: string | number | null): string {
  if (x === null) return '';
  if (typeof x === 'number') return String(Number(x.toFixed(6)));
  return /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
}

/**
 * The trace's stages as CSV: `job` (the SWF job number, else the submission index), `pipeline`, `stage`,
 * `priority`, `submit` (when the stage became ready: an SWF job's scaled submit time), `start`, `end`
 * (empty when it never started or ended), `procs` (desired cpu), `run` (end − start).
 */
export function jobsCsv(trace: SimulationTrace): string {
  const lines = [JOB_CSV_COLUMNS.join(',')];
  for (const s of trace.stages) {
    const run = s.startedAt !== null && s.completedAt !== null ? s.completedAt - s.startedAt : null;
    lines.push(
      [s.job, s.pipeline, s.stageId, s.priority, s.readyAt, s.startedAt, s.completedAt, s.cpu, run]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
