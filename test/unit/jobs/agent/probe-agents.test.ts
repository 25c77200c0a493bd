import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildProbeCommand, parseProbeReply } from '../../../../src/jobs/agent/probe-agents.ts';

const STAMP = {
  config_id: '0123456789abcdef',
  telegraf_version: 'Telegraf 1.30.0',
  files: { '/etc/telegraf/telegraf.conf': 'a'.repeat(64) },
};

describe('parseProbeReply', () => {
  it('reads every section of a whole reply', () => {
    const reply = [
      '@@stamp',
      JSON.stringify(STAMP, null, 2),
      '',
      '@@files',
      `${'b'.repeat(64)}  /etc/telegraf/telegraf.conf`,
      '@@version',
      'Telegraf 1.30.0',
      '@@service',
      'running',
      '@@direct',
      '204',
      '@@end',
      '',
    ].join('\n');
    expect(parseProbeReply(reply)).toEqual({
      reachable: true,
      stamp: STAMP,
      files: { '/etc/telegraf/telegraf.conf': 'b'.repeat(64) },
      version: 'Telegraf 1.30.0',
      running: true,
      direct: true,
    });
  });

  it('gives a VM never deployed no stamp, no files, no version; a failed /ping is not direct', () => {
    const reply = '@@stamp\n\n@@files\n@@version\n@@service\nstopped\n@@direct\n0\n@@end\n';
    expect(parseProbeReply(reply)).toEqual({ reachable: true, files: {}, running: false, direct: false });
    expect(parseProbeReply(reply.replace('0\n@@end', 'none\n@@end'))).not.toHaveProperty('direct');
  });

  it('refuses a reply cut short, and ignores a stamp that is not its JSON', () => {
    expect(parseProbeReply('@@stamp\n{}\n@@files\n')).toBeUndefined();
    expect(parseProbeReply('@@stamp\nnot json\n@@service\nrunning\n@@end\n')).toEqual({
      reachable: true,
      files: {},
      running: true,
    });
  });
});

describe('buildProbeCommand', () => {
  it('leaves out a /ping whose URL could break out of its quotes, and an interpreter that is not a plain path', () => {
    expect(buildProbeCommand({ agentUrl: 'http://198.51.100.1:8086";touch /tmp/x;"' })).toContain(
      'echo none',
    );
    const command = buildProbeCommand({
      agentUrl: 'http://198.51.100.1:8086/',
      python: '/usr/bin/python3;id',
    });
    expect(command).toContain('python3 -c "import urllib.request as u');
    expect(command).not.toContain(';id');
    expect(command).toContain('\\"http://198.51.100.1:8086/ping\\"');
  });

  it('runs in a POSIX shell as sudo runs it and answers every section (this machine has no Telegraf)', async () => {
    // The same two layers of quoting the VM's login shell and `sudo -n sh -c` apply.
    const command = buildProbeCommand({ agentUrl: 'http://127.0.0.1:9/' }).replace(/^sudo -n /, '');
    const { stdout } = await execa('sh', ['-c', command]);
    expect(parseProbeReply(stdout)).toMatchObject({ reachable: true, running: false, direct: false });
  });
});
