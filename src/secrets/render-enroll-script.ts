import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { z } from 'zod';
import { nameSchema } from '../domain/name.ts';
import { parseInput } from '../domain/parse-input.ts';
import { publicKeySchema } from '../domain/ssh-key-line.ts';

const TEMPLATE = new URL('../../templates/enroll.sh.hbs', import.meta.url);

const valuesSchema = z.strictObject({
  project: nameSchema,
  adminKey: publicKeySchema,
  projectKey: publicKeySchema,
  user: nameSchema.default('cloudroot'),
});

let compiled: Handlebars.TemplateDelegate | undefined;

/**
 * The enrollment shell script for a project: run as root on a VM, it creates cloudroot with the
 * admin and project public keys and passwordless sudo. Every value is validated (names and key
 * lines cannot hold quotes, spaces beyond the comment separator, or shell syntax) before it lands
 * between single quotes in the script.
 */
export function renderEnrollScript(values: {
  project: string;
  adminKey: string;
  projectKey: string;
  user?: string;
}): string {
  const checked = parseInput(valuesSchema, values);
  compiled ??= Handlebars.compile(readFileSync(TEMPLATE, 'utf8'), { noEscape: true, strict: true });
  return compiled(checked);
}
