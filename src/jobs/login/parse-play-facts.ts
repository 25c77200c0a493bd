import { INTERPRETER_PATH, type Host } from '../../domain/host.ts';

/** The facts Outpost records of a host. */
export type HostFacts = NonNullable<Host['facts']>;

const PLAIN = /^[A-Za-z0-9 ._+()/-]{1,100}$/;

/**
 * The facts a play recorded for Outpost (`stats.outpost_facts`, from playbooks/tasks/record-facts.yml), per
 * host, keeping only plain values the registry accepts; empty when the play recorded none.
 */
export function parsePlayFacts(stats: Record<string, unknown> | undefined): Map<string, HostFacts> {
  const found = new Map<string, HostFacts>();
  const recorded = stats?.outpost_facts;
  for (const [host, value] of Object.entries(isRecord(recorded) ? recorded : {})) {
    if (!isRecord(value)) continue;
    const facts: HostFacts = {};
    for (const name of ['os', 'family', 'arch', 'python'] as const) {
      const text = value[name];
      if (typeof text === 'string' && PLAIN.test(text)) facts[name] = text;
    }
    if (typeof value.interpreter === 'string' && INTERPRETER_PATH.test(value.interpreter))
      facts.interpreter = value.interpreter;
    if (Object.keys(facts).length > 0) found.set(host, facts);
  }
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
