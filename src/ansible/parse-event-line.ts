import { quote } from '../errors.ts';
import { ansibleEventSchema, type AnsibleEvent } from './ansible-event.ts';

/** A parsed fd-3 line: the event, or why the line is not one (the line is then kept as text). */
export type ParsedEventLine = { ok: true; event: AnsibleEvent } | { ok: false; error: string };

/** Parses one line the callback plugin wrote on fd 3 against the event schema of ansible-event.ts. */
export function parseEventLine(line: string): ParsedEventLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${quote(line)}` };
  }
  const result = ansibleEventSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || 'event';
    return { ok: false, error: `${field}: ${issue?.message ?? 'invalid'} in ${quote(line)}` };
  }
  return { ok: true, event: result.data };
}
