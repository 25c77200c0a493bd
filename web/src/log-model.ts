import { stripAnsi } from './ansi.ts';
import type { HostSummary } from './types.ts';

/** One entry of a job's log stream as the API sends it. */
export interface LogEntry {
  seq: number;
  type: 'stdout' | 'event' | 'status' | 'end';
  time: string;
  data: string;
}

// "ok: [web-1]", "fatal: [web-1]: UNREACHABLE!", "changed: [web-1] => (item=x)"; recap "web-1 : ok=3 ..."
const HOST_IN_LINE =
  /^(?:ok|changed|failed|fatal|skipping|unreachable|included|rescued|ignored)[^[]*\[([^\]\s]+)\]/;
const RECAP_LINE = /^([^\s:]+)\s+:\s+ok=/;

/**
 * A job's log in the browser: every line ever received (200,000 fit), kept with a lower-case copy for
 * search and the host it is about, plus the per-host status the events tell. Entries are applied by
 * sequence number, so a resumed stream can never add a line twice.
 */
export class LogModel {
  readonly lines: string[] = [];
  readonly lower: string[] = [];
  readonly hostOf: (string | undefined)[] = [];
  readonly hosts = new Map<string, HostSummary>();
  lastSeq = 0;
  status: string | undefined;
  reason: string | undefined;
  ended = false;
  /** Bumped on every change, so views know to redraw. */
  version = 0;

  /** Applies entries in order; ones at or below the last sequence seen are ignored. */
  append(entries: LogEntry[]): void {
    for (const entry of entries) {
      if (entry.seq <= this.lastSeq) continue;
      this.lastSeq = entry.seq;
      if (entry.type === 'stdout') this.#addLine(entry.data);
      else if (entry.type === 'event') this.#applyEvent(entry.data);
      else {
        const body = parse(entry.data) as { status?: string; reason?: string } | undefined;
        if (body?.status) this.status = body.status;
        if (body?.reason) this.reason = body.reason;
        if (entry.type === 'end') this.ended = true;
      }
    }
    this.version += 1;
  }

  #addLine(text: string): void {
    const plain = stripAnsi(text);
    this.lines.push(text);
    this.lower.push(plain.toLowerCase());
    this.hostOf.push(HOST_IN_LINE.exec(plain)?.[1] ?? RECAP_LINE.exec(plain)?.[1]);
  }

  #applyEvent(data: string): void {
    const event = parse(data) as
      | {
          event?: string;
          hosts?: string[] | Record<string, Omit<HostSummary, 'firstError'>>;
          host?: string;
          status?: keyof Omit<HostSummary, 'firstError'>;
          task?: string;
          msg?: string;
          ignore_errors?: boolean;
        }
      | undefined;
    if (!event) return;
    const summary = (host: string): HostSummary => {
      let found = this.hosts.get(host);
      if (!found) {
        found = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
        this.hosts.set(host, found);
      }
      return found;
    };
    if (event.event === 'play_start' && Array.isArray(event.hosts)) event.hosts.forEach(summary);
    if (event.event === 'host_result' && event.host && event.status) {
      const s = summary(event.host);
      s[event.status] += 1;
      if (
        (event.status === 'failed' || event.status === 'unreachable') &&
        !event.ignore_errors &&
        !s.firstError
      )
        s.firstError = { task: event.task ?? '', status: event.status, msg: event.msg ?? '' };
    }
    if (event.event === 'recap' && event.hosts && !Array.isArray(event.hosts)) {
      for (const [host, counts] of Object.entries(event.hosts)) {
        const s = summary(host);
        Object.assign(s, {
          ok: counts.ok,
          changed: counts.changed,
          failed: counts.failed,
          skipped: counts.skipped,
          unreachable: counts.unreachable,
        });
      }
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
