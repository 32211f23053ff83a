/** The HTML tables of a section: a summary of its executions and the estimate accuracy per stage key. */
import { EXECUTION_OUTCOMES, type ExecutionRecord } from '../execution/record';
import { waitStats } from '../simulator/metrics';
import type { AccuracyRow, ErrorStats } from './accuracy';
import { escapeHtml, formatSeconds } from './format';
import { BAND_LABELS } from './palette';
import { BANDS, waitPoints } from './queue-series';

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ''): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table${cls === '' ? '' : ` class="${cls}"`}>${head}${body}</table>`;
}

/** A plain HTML table (cells escaped). */
export function htmlTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return table(header, rows);
}

/**
 * The summary of a section as HTML: executions by outcome, reduced/shrunk grants and shards, then waits
 * (requested → started) per band: count, median, p95, max.
 */
export function summaryHtml(records: readonly ExecutionRecord[], origin: Date): string {
  const outcomes = EXECUTION_OUTCOMES.map((o) => `${records.filter((r) => r.outcome === o).length} ${o}`);
  const reduced = records.filter((r) => r.reduced).length;
  const shrunk = records.filter((r) => r.shrinks > 0).length;
  const shards = records.filter((r) => r.shardIndex !== null).length;
  const waits = waitPoints(records, origin);
  const rows = BANDS.map((band) => {
    const s = waitStats(waits.filter((w) => w.band === band).map((w) => w.waitSeconds));
    return [
      BAND_LABELS[band],
      String(s.count),
      formatSeconds(s.p50),
      formatSeconds(s.p95),
      formatSeconds(s.max),
    ];
  });
  return (
    `<p class="summary">${records.length} execution(s): ${escapeHtml(outcomes.join(', '))}; ` +
    `${reduced} reduced grant(s), ${shrunk} shrunk, ${shards} shard execution(s).</p>` +
    table(['wait by band', 'executions', 'median', 'p95', 'max'], rows, 'numbers')
  );
}

function stats(s: ErrorStats | null): string[] {
  return s === null
    ? ['—', '—', '—', '—']
    : [
        String(s.count),
        formatSeconds(s.meanAbsSeconds),
        formatSeconds(s.meanSeconds),
        formatSeconds(s.p95AbsSeconds),
      ];
}

/**
 * The accuracy table as HTML: per stage key, records, then count / mean |error| / mean / p95 |error| of start
 * estimates, declared run times and learned run times.
 */
export function accuracyHtml(rows: readonly AccuracyRow[]): string {
  return table(
    [
      'stage key',
      'handler',
      'executions',
      'start est. n',
      'mean |err|',
      'mean err',
      'p95 |err|',
      'declared run time n',
      'mean |err|',
      'mean err',
      'p95 |err|',
      'learned run time n',
      'mean |err|',
      'mean err',
      'p95 |err|',
    ],
    rows.map((r) => [
      r.key,
      r.handlers.join(', '),
      String(r.records),
      ...stats(r.start),
      ...stats(r.runTime),
      ...stats(r.learnedRunTime),
    ]),
    'numbers',
  );
}
