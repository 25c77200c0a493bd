import { Command } from 'commander';
import type { AuditEntry } from '../events/audit-event.ts';
import type { ApiClient } from './api-client.ts';
import { formatTime } from './format-time.ts';
import { parseWholeNumber } from './parse-whole-number.ts';
import { printRows } from './print-rows.ts';
import { readSse } from './read-sse.ts';

/** An audit entry as `GET /v1/audit` answers it. */
export interface AuditEvent {
  id: string;
  time: string;
  project: string | null;
  data: AuditEntry;
}

const COLUMNS = ['time', 'who', 'action', 'objects', 'outcome', 'project'];

/**
 * `outpost audit [--follow]`: who did what, on which objects, when, and how it ended; the last entries,
 * then with --follow the new ones as they come (resuming after a dropped connection).
 */
export function auditCommand(client: () => ApiClient): Command {
  return new Command('audit')
    .description('the audit trail: state changes, refused requests and job ends, with who did them')
    .option('--limit <n>', 'the last n entries (default 50)', parseWholeNumber, 50)
    .option('-f, --follow', 'then print new entries as they come')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { limit: number; follow?: boolean; json?: boolean }) => {
      const events = await client().request<AuditEvent[]>('GET', `/v1/audit?limit=${opts.limit}`);
      if (opts.json) for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
      else if (!opts.follow || events.length > 0) printRows(events.map(auditRow), COLUMNS, false);
      if (!opts.follow) return;
      await followAudit(client(), events.at(-1)?.id, (event) => {
        if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        else process.stdout.write(`${COLUMNS.map((column) => auditRow(event)[column] ?? '-').join('  ')}\n`);
      });
    });
}

/** One entry as a table row. */
function auditRow(event: AuditEvent): Record<string, string> {
  const { who, objects, outcome, status, code, action, method, path } = event.data;
  return {
    time: formatTime(event.time),
    who: who ? `${who.name} (${who.tokenId})` : '(no valid token)',
    action,
    // A request refused before its objects were known shows what it asked for.
    objects: objects.length > 0 ? objects.join(',') : method && path ? `${method} ${path}` : '-',
    outcome: [outcome, status, code].filter((part) => part !== undefined).join(' '),
    project: event.project ?? '*',
  };
}

/** Follows the audit stream after `after` (else from now), reconnecting with Last-Event-ID; ends on 4xx. */
async function followAudit(
  client: ApiClient,
  after: string | undefined,
  onEvent: (event: AuditEvent) => void,
): Promise<void> {
  let last = after;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await client.fetch('/v1/audit', {
        headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
      });
      attempt = 0;
      for await (const message of readSse(response)) {
        const event = JSON.parse(message.data) as AuditEvent;
        last = event.id;
        onEvent(event);
      }
    } catch (error) {
      // A refusal (the token was revoked) ends it; a dropped connection or a restart is retried.
      if (error instanceof Error && 'status' in error && Number(error.status) < 500) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * 2 ** Math.min(attempt, 5))));
  }
}
