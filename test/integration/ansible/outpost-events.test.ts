import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseEventLine } from '../../../src/ansible/parse-event-line.ts';
import { repoRoot } from './ansible-lab.ts';

const playbook = path.join(repoRoot, 'test/fixtures/events/callback-cases.yml');

/** Runs the callback cases on localhost; `fd` is what OUTPOST_EVENT_FD says (undefined: unset). */
async function runCases(fd: string | undefined) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ANSIBLE_CONFIG: path.join(repoRoot, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
    OUTPOST_EVENT_FD: fd,
  };
  if (fd === undefined) delete env.OUTPOST_EVENT_FD;
  const result = await execa(
    'ansible-playbook',
    ['-i', 'localhost,', '-e', 'ansible_python_interpreter=/usr/bin/python3', playbook],
    { cwd: repoRoot, env, extendEnv: false, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], reject: false },
  );
  const eventText = String(result.stdio[3] ?? '');
  const events = eventText
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, eventText, events };
}

describe('playbooks/callback_plugins/outpost_events.py', () => {
  it('writes one schema-valid event per line on fd 3, numbered from 1, ending with the recap and the result', async () => {
    const { result, eventText, events } = await runCases('3');
    expect(result.exitCode, result.stdout).toBe(0);
    expect(
      eventText
        .trim()
        .split('\n')
        .map(parseEventLine)
        .filter((line) => !line.ok),
    ).toEqual([]);
    expect(events.map((event) => event.counter)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ v: 1, event: 'playbook_start', playbook: 'callback-cases.yml' });
    expect(events[1]).toMatchObject({ event: 'play_start', play: 'Callback cases', hosts: ['localhost'] });
    expect(events.at(-2)).toEqual(
      expect.objectContaining({
        event: 'recap',
        hosts: {
          localhost: { ok: 4, changed: 1, failed: 0, skipped: 1, unreachable: 0, rescued: 0, ignored: 1 },
        },
      }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'playbook_end', success: true });
    expect(String(events[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('censors no_log results and their items', async () => {
    const { eventText, events } = await runCases('3');
    expect(eventText).not.toContain('do-not-leak-this');
    const hidden = events.filter((event) => event.task === 'Hidden loop' && event.event !== 'task_start');
    expect(hidden.map((event) => [event.event, event.item, event.msg])).toEqual([
      ['item_result', '(hidden)', 'the output has been hidden due to no_log'],
      ['item_result', '(hidden)', 'the output has been hidden due to no_log'],
      ['host_result', undefined, 'the output has been hidden due to no_log'],
    ]);
  });

  it('reports failures with rc, stderr and ignore_errors, skips with their reason, handlers, and warnings', async () => {
    const { events } = await runCases('3');
    const result = (task: string) =>
      events.find((event) => event.event === 'host_result' && event.task === task);
    expect(result('Failing command')).toMatchObject({
      host: 'localhost',
      action: 'ansible.builtin.command',
      status: 'failed',
      rc: 3,
      ignore_errors: true,
    });
    expect(result('Failing command')?.msg).toContain('broken');
    expect(result('Failing command')?.duration_ms).toEqual(expect.any(Number));
    expect(result('Skipped task')).toMatchObject({ status: 'skipped', msg: 'Conditional result was False' });
    expect(result('Changed task that notifies')).toMatchObject({ status: 'changed' });
    expect(events.find((event) => event.event === 'task_start' && event.task === 'A handler')).toMatchObject({
      is_handler: true,
      play: 'Callback cases',
    });
    expect(result('A handler')).toMatchObject({ status: 'ok' });
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'warning', msg: expect.stringContaining('nomatch') as unknown }),
    );
  });

  it('is silent and harmless when OUTPOST_EVENT_FD is unset or names a closed descriptor', async () => {
    for (const fd of [undefined, '9']) {
      const { result, eventText } = await runCases(fd);
      expect(result.exitCode, `${fd ?? 'unset'}: ${result.stderr}`).toBe(0);
      expect(eventText).toBe('');
      expect(result.stdout).toContain('PLAY RECAP');
    }
  });
});
