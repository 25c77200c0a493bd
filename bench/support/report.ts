import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finishMachineInfo, type MachineInfo } from './machine.ts';

export const BENCH_DIR = path.resolve(import.meta.dirname, '..');
export const ROOT = path.resolve(BENCH_DIR, '..');

type Cell = string | number | boolean | undefined;

/** Prints rows as an aligned text table (columns from the first row's keys). */
export function printTable(title: string, rows: Record<string, Cell>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) {
    console.log('  (no rows)');
    return;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const text = (value: Cell): string => (value === undefined ? '' : String(value));
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => text(row[column]).length)),
  );
  const line = (cells: string[]): string =>
    `  ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}`;
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((column) => text(row[column]))));
}

/** Writes `bench/results/<name>.json` with the machine and the figures; returns the path. */
export async function writeResult(name: string, machine: MachineInfo, result: unknown): Promise<string> {
  const dir = path.join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await writeFile(
    file,
    `${JSON.stringify({ bench: name, machine: finishMachineInfo(machine), result }, null, 2)}\n`,
  );
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
  return file;
}

/** `--name value` / `--name=value` flags of the command line, with defaults. */
export function readFlags<T extends Record<string, string | number | boolean>>(defaults: T): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const name = match[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(name in defaults))
      throw new Error(`unknown flag --${match[1]}; known: ${Object.keys(defaults).join(', ')}`);
    const fallback = defaults[name];
    let raw = match[2];
    if (raw === undefined) raw = typeof fallback === 'boolean' ? 'true' : argv[++i];
    if (raw === undefined) throw new Error(`--${match[1]} needs a value`);
    out[name] =
      typeof fallback === 'number' ? Number(raw) : typeof fallback === 'boolean' ? raw === 'true' : raw;
    if (typeof fallback === 'number' && !Number.isFinite(out[name])) {
      throw new Error(`--${match[1]}: expected a number, got ${JSON.stringify(raw)}`);
    }
  }
  return out as T;
}
