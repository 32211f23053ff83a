/** Text helpers of the report: HTML escaping, times, durations and the tooltip of one execution. */
import type { ExecutionRecord } from '../execution/record';
import { formatVector } from '../ledger/vectors';
import { bandOf } from '../simulator/metrics';
import { describeRecord, leftQueueAt, secondsSince } from './time-base';

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A duration, seconds, as `42 s`, `3m05s`, `2h10m`; negative with a leading minus. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const sign = seconds < 0 ? '−' : '';
  const a = Math.abs(seconds);
  if (a < 60) return `${sign}${a < 10 ? a.toFixed(1) : a.toFixed(0)} s`;
  const s = Math.round(a);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${sign}${h}h${String(m).padStart(2, '0')}m`;
  return `${sign}${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** How the report prints an instant: `t=12.5 s` on a simulated clock, else UTC time and `+elapsed`. */
export function formatInstant(origin: Date, at: Date, simulated: boolean): string {
  const t = secondsSince(origin, at);
  if (simulated) return `t=${Number(t.toFixed(1))} s`;
  return `${at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z')} (+${formatSeconds(t)})`;
}

/**
 * The tooltip of one execution, as HTML (escaped): workflow, stage, shard and attempt; outcome, node,
 * priority and band; the grant (marked reduced or shrunk); its times, wait and run time.
 */
export function recordTooltip(r: ExecutionRecord, origin: Date, simulated: boolean): string {
  const at = (d: Date | null): string => (d === null ? '—' : formatInstant(origin, d, simulated));
  const granted = r.granted === null ? 'never granted' : formatVector(r.granted);
  const marks = [
    ...(r.reduced ? [`reduced: desired ${formatVector(r.desired)}`] : []),
    ...(r.shrinks > 0 ? [`shrunk ${r.shrinks}×`] : []),
  ];
  const wait = (leftQueueAt(r).getTime() - r.requestedAt.getTime()) / 1000;
  const ran = r.startedAt === null ? null : (r.endedAt.getTime() - r.startedAt.getTime()) / 1000;
  const lines = [
    `<b>${escapeHtml(describeRecord(r))}</b>`,
    escapeHtml(
      `pipeline ${r.definitionName}${r.definitionVersion === null ? '' : ` v${r.definitionVersion}`}, handler ${r.handler}`,
    ),
    escapeHtml(
      `outcome ${r.outcome} · node ${r.nodeId ?? '(none)'} · priority ${r.priority} (${bandOf(r.priority)})`,
    ),
    escapeHtml(`granted ${granted}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}`),
    escapeHtml(`requested ${at(r.requestedAt)} · started ${at(r.startedAt)} · ended ${at(r.endedAt)}`),
    escapeHtml(
      `waited ${formatSeconds(wait)}${ran === null ? '' : ` · ran ${formatSeconds(ran)}`}` +
        (r.expectedSeconds === null ? '' : ` (declared ${formatSeconds(r.expectedSeconds)})`),
    ),
  ];
  return lines.join('<br>');
}
