import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../../src/ansible/build-command.ts';

describe('buildCommand', () => {
  it('passes limit, tags, check, diff, verbosity and extra-vars files through as separate argv entries', () => {
    const command = buildCommand({
      rootDir: '/srv/outpost',
      playbook: 'playbooks/probe.yml',
      inventory: '/srv/outpost/var/runs/job-1/hosts.yml',
      extraVarsFiles: ['/srv/outpost/var/runs/job-1/extra-vars.json'],
      limit: 'vpc1-vm1,vpc1-vm2',
      tags: ['telegraf_install', 'telegraf_configure'],
      check: true,
      diff: true,
      verbosity: 2,
    });
    expect([command.file, ...command.args]).toEqual([
      'ansible-playbook',
      '-i',
      '/srv/outpost/var/runs/job-1/hosts.yml',
      '-e',
      '@/srv/outpost/var/runs/job-1/extra-vars.json',
      '--limit',
      'vpc1-vm1,vpc1-vm2',
      '--tags',
      'telegraf_install,telegraf_configure',
      '--check',
      '--diff',
      '-vv',
      '/srv/outpost/playbooks/probe.yml',
    ]);
    expect(command.env).toMatchObject({
      OUTPOST_EVENT_FD: '3',
      ANSIBLE_CONFIG: '/srv/outpost/ansible.cfg',
      ANSIBLE_CALLBACKS_ENABLED: 'outpost_events',
    });
    expect(command.cwd).toBe('/srv/outpost');
  });

  it('refuses a limit or tag that could be read as an option or a shell word, quoting it', () => {
    const base = { rootDir: '/r', playbook: 'p.yml', inventory: '/r/h.yml' };
    expect(() => buildCommand({ ...base, limit: '--syntax-check' })).toThrow(
      'options.limit: not a host pattern: "--syntax-check"',
    );
    expect(() => buildCommand({ ...base, limit: 'a;reboot' })).toThrow('options.limit');
    expect(() => buildCommand({ ...base, tags: ['ok', 'x y'] })).toThrow(
      'options.tags: not a tag name: "x y"',
    );
    expect(() => buildCommand({ ...base, verbosity: 9 })).toThrow(
      'options.verbosity: expected 0 to 4, got 9',
    );
  });
});
