import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnsibleEvent } from '../../../src/ansible/ansible-event.ts';
import { parseEventLine } from '../../../src/ansible/parse-event-line.ts';
import { summarizeRun } from '../../../src/ansible/summarize-run.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/events');

async function readFixture(name: string): Promise<AnsibleEvent[]> {
  const lines = (await readFile(path.join(FIXTURES, name), 'utf8')).split('\n').filter(Boolean);
  return lines.map((line) => {
    const parsed = parseEventLine(line);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.event;
  });
}

describe('parseEventLine', () => {
  it('accepts every event of a real deploy-agent run, numbered 1..n', async () => {
    const events = await readFixture('deploy-agent.jsonl');
    expect(events.map((e) => e.counter)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.event).toBe('playbook_start');
    expect(events.at(-1)).toMatchObject({ event: 'playbook_end' });
  });

  it('builds the per-host summary of a real run from its recap', async () => {
    const events = await readFixture('deploy-agent.jsonl');
    const recap = events.find((e) => e.event === 'recap');
    const summary = summarizeRun(events);
    expect(recap?.event).toBe('recap');
    if (recap?.event !== 'recap') return;
    for (const [host, counts] of Object.entries(recap.hosts)) {
      expect(summary[host]).toMatchObject({ ok: counts.ok, changed: counts.changed, failed: counts.failed });
    }
  });

  it('keeps the first error of each failed host of a real failed run', async () => {
    const events = await readFixture('deploy-agent-unreachable-output.jsonl');
    const summary = summarizeRun(events);
    const failed = Object.entries(summary).filter(([, h]) => h.failed > 0);
    expect(failed.map(([host]) => host).sort()).toEqual(['vpc1-vm1', 'vpc1-vm2']);
    for (const [host, result] of failed) {
      const first = events.find(
        (e) => e.event === 'host_result' && e.host === host && e.status === 'failed' && !e.ignore_errors,
      );
      expect(result.firstError).toEqual({
        task: first?.event === 'host_result' ? first.task : undefined,
        status: 'failed',
        msg: first?.event === 'host_result' ? first.msg : undefined,
      });
      expect(result.firstError?.msg).not.toBe('');
    }
  });

  it('refuses what is not an event, naming the field', () => {
    expect(parseEventLine('PLAY [x] ***')).toEqual({ ok: false, error: 'not JSON: "PLAY [x] ***"' });
    const wrongStatus = parseEventLine(
      JSON.stringify({
        v: 1,
        counter: 3,
        time: 't',
        event: 'host_result',
        host: 'a',
        task: 't',
        task_id: '1',
        action: 'ping',
        status: 'great',
        duration_ms: 1,
      }),
    );
    expect(wrongStatus.ok).toBe(false);
    expect(!wrongStatus.ok && wrongStatus.error).toMatch(/^status: /);
    const noVersion = parseEventLine(JSON.stringify({ counter: 1, time: 't', event: 'warning', msg: 'x' }));
    expect(!noVersion.ok && noVersion.error).toMatch(/^v: /);
  });

  it('ignores an error that the play ignores when picking the first error', () => {
    const base = { v: 1 as const, time: 't', task_id: '1', action: 'command', duration_ms: 5 };
    const summary = summarizeRun([
      {
        ...base,
        counter: 1,
        event: 'host_result',
        host: 'a',
        task: 'probe',
        status: 'failed',
        msg: 'ignored',
        ignore_errors: true,
      },
      {
        ...base,
        counter: 2,
        event: 'host_result',
        host: 'a',
        task: 'install',
        status: 'failed',
        msg: 'no package',
      },
    ]);
    expect(summary.a).toEqual({
      ok: 0,
      changed: 0,
      failed: 2,
      skipped: 0,
      unreachable: 0,
      firstError: { task: 'install', status: 'failed', msg: 'no package' },
    });
  });
});
