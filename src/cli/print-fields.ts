/** Prints `label  value` lines with the values aligned; fields whose value is undefined are left out. */
export function printFields(title: string, fields: [string, string | undefined][]): void {
  const shown = fields.filter((field): field is [string, string] => field[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  const lines = shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  process.stdout.write(`${[title, ...lines].join('\n')}\n`);
}
