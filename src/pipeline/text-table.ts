/**
 * Plain-text tables for the Web UI's current details (rendered in a fenced code block, so columns line up
 * whatever the markdown renderer does with tables). Pure: imported by workflows.
 */

/** Longest cell, in characters (longer ones end in `…`). */
export const MAX_CELL_LENGTH = 80;

/** A cell made safe for a fenced block: one line, no backtick fence, at most {@link MAX_CELL_LENGTH} characters. */
export function cell(text: string, max = MAX_CELL_LENGTH): string {
  const flat = text.replace(/\s+/g, ' ').replace(/`/g, "'").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Left-aligned columns separated by two spaces, one line per row, trailing spaces trimmed. */
export function alignedTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, i) => (cells[i] ?? '').padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `alignedTable` inside a ```text fence (for `setCurrentDetails`). */
export function fencedTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return ['```text', alignedTable(headers, rows), '```'].join('\n');
}
