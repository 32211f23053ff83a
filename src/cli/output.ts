/** Prints a table with left-aligned columns. */
export function printTable(
  headers: string[],
  rows: string[][],
  write: (s: string) => void = (s) => process.stdout.write(s),
): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

/** Prints JSON, pretty, to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
