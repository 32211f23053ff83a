import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/services/project-root';

/** One line naming the machine a benchmark ran on: CPU model, cores, memory, Node version. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${cpu}, ${os.cpus().length} cores, ${memGiB} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/**
 * Writes (or replaces) the section `name` of BENCHMARKS.md, stamped with the date and the machine.
 * Sections are delimited by `<!-- bench:NAME -->` markers so each benchmark owns its own block.
 */
export function writeBenchSection(name: string, title: string, body: string, now: Date = new Date()): void {
  const file = path.join(projectRoot(), 'BENCHMARKS.md');
  const header =
    '# Benchmarks\n\nWritten by `npm run bench [-- NAME]`; each section says when and where it ran.\n';
  const current = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${begin}\n## ${title}\n\n_Run ${now.toISOString()} on ${machineLine()}._\n\n${body.trim()}\n${end}`;
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? current.slice(0, start) + block + current.slice(stop + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

/** Renders a GitHub-flavoured markdown table. */
export function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The p-th percentile (0–100) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
