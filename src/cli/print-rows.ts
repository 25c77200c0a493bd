import { shorten } from './shorten.ts';

/**
 * Prints rows as JSON (`--json`) or as an aligned table of `columns`; a multi-line or long cell shows its
 * first line then `…`, so no value breaks the table.
 */
export function printRows(
  rows: Record<string, unknown>[],
  columns: string[],
  json: boolean,
  /** Widest a column's cells may be, by column (default 100). */
  widest: Record<string, number> = {},
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const cells = rows.map((row) => columns.map((column) => cell(row[column], widest[column] ?? 100)));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')}\n`);
}

function cell(value: unknown, max: number): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'string') return value === '' ? '-' : shorten(value, max);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return shorten(JSON.stringify(value), max);
}
