import { InvalidArgumentError } from 'commander';

/** A command-line whole number from 1 to 999999 (a count, a limit); refused by name otherwise. */
export function parseWholeNumber(value: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value))
    throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
