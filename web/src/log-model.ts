import { stripAnsi } from './ansi.ts';
import type { HostSummary } from './types.ts';

/** The per-host counters an event adds to (not the first error or the task a stopped run reached). */
type CountedStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

/** One entry of a job's log stream as the API sends it. */
export interface LogEntry {
  seq: number;
  type: 'stdout' | 'event' | 'status' | 'end';
  time: string;
  data: string;
  /** In a sliced job's log: the slice the entry comes from (`vpc1-proxy#2`), shown before its line. */
  slice?: string;
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
  lines: string[] = [];
  lower: string[] = [];
  hostOf: (string | undefined)[] = [];
  hosts = new Map<string, HostSummary>();
  /** Hosts whose counts came from a recap (absolute, not to be added to). */
  readonly recapped = new Set<string>();
  /** Sequence of the first entry held; entries before it may be prepended once. */
  firstSeq = 0;
  lastSeq = 0;
  /** Bumped when lines are prepended: line numbers shift, so indexes built on them start over. */
  generation = 0;
  status: string | undefined;
  reason: string | undefined;
  ended = false;
  /** Bumped on every change, so views know to redraw. */
  version = 0;

  /** Applies entries in order; ones at or below the last sequence seen are ignored. */
  append(entries: LogEntry[]): void {
    for (const entry of entries) {
      if (entry.seq <= this.lastSeq) continue;
      if (this.firstSeq === 0) this.firstSeq = entry.seq;
      this.lastSeq = entry.seq;
      if (entry.type === 'stdout') this.#addLine(entry.data, entry.slice);
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

  /**
   * Puts the entries before `firstSeq` in front (the log was opened at its tail to show the end at once):
   * lines in one concatenation, per-host counts added (a recap's counts replace them), first errors kept.
   */
  prepend(entries: LogEntry[]): void {
    const head = new LogModel();
    head.append(entries.filter((entry) => entry.seq < this.firstSeq));
    if (head.lastSeq === 0) return;
    this.lines = head.lines.concat(this.lines);
    this.lower = head.lower.concat(this.lower);
    this.hostOf = head.hostOf.concat(this.hostOf);
    const hosts = new Map(head.hosts);
    for (const [host, summary] of this.hosts) {
      const before = hosts.get(host);
      if (!before || this.recapped.has(host)) {
        hosts.set(host, { ...summary, ...(before?.firstError ? { firstError: before.firstError } : {}) });
        continue;
      }
      hosts.set(host, {
        ok: before.ok + summary.ok,
        changed: before.changed + summary.changed,
        failed: before.failed + summary.failed,
        skipped: before.skipped + summary.skipped,
        unreachable: before.unreachable + summary.unreachable,
        ...((before.firstError ?? summary.firstError)
          ? { firstError: before.firstError ?? summary.firstError }
          : {}),
      });
    }
    this.hosts = hosts;
    for (const host of head.recapped) this.recapped.add(host);
    this.status ??= head.status;
    this.firstSeq = head.firstSeq;
    this.generation += 1;
    this.version += 1;
  }

  #addLine(text: string, slice?: string): void {
    const plain = stripAnsi(text);
    // A slice's lines carry its label, as in the plain-text log (`[vpc1-proxy#2] ok: [web-1]`).
    const label = slice ? `[${slice}] ` : '';
    this.lines.push(label + text);
    this.lower.push((label + plain).toLowerCase());
    this.hostOf.push(HOST_IN_LINE.exec(plain)?.[1] ?? RECAP_LINE.exec(plain)?.[1]);
  }

  #applyEvent(data: string): void {
    const event = parse(data) as
      | {
          event?: string;
          hosts?: string[] | Record<string, Pick<HostSummary, CountedStatus>>;
          host?: string;
          status?: CountedStatus;
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
        this.recapped.add(host);
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
