import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The role's preflight on this machine (a local connection, only the preflight tag): no VM needed to
// see what it says about bad variables.
const ROOT = path.resolve(import.meta.dirname, '../../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-preflight-'));
  await writeFile(
    path.join(dir, 'play.yml'),
    [
      '- name: Preflight of role telegraf',
      '  hosts: all',
      '  gather_facts: true',
      '  gather_subset: ["!all", "!min", distribution, platform]',
      '  roles: [{role: telegraf}]',
      '',
    ].join('\n'),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function preflight(vars: Record<string, unknown>): Promise<{ exitCode: number; output: string }> {
  const file = path.join(dir, `vars-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(vars));
  const result = await execa(
    'ansible-playbook',
    [
      '-i',
      'localhost,',
      '-c',
      'local',
      '--tags',
      'telegraf_preflight',
      '-e',
      `@${file}`,
      path.join(dir, 'play.yml'),
    ],
    {
      cwd: ROOT,
      reject: false,
      all: true,
      env: { ANSIBLE_CONFIG: path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
    },
  );
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '' };
}

describe("role telegraf's preflight", () => {
  it('names every bad variable and its fix in one failure, and passes good ones', async () => {
    const good = {
      telegraf_install_method: 'none',
      telegraf_binary: '/bin/sh',
      telegraf_influxdb_urls: ['http://198.51.100.10:8086'],
      telegraf_config_id: '0123456789abcdef',
    };
    const passed = await preflight(good);
    expect(passed.exitCode, passed.output).toBe(0);

    const failed = await preflight({
      ...good,
      telegraf_install_method: 'offline',
      telegraf_offline_dir: '/nonexistent-outpost-dir',
      telegraf_version: 'latest!',
      telegraf_influxdb_urls: ['http://user:secret@198.51.100.10:8086'],
      telegraf_influxdb_database: 'bad db',
      telegraf_interval: '10 seconds',
      telegraf_config_id: 'NOT-HEX',
    });
    expect(failed.exitCode).not.toBe(0);
    const fatal = /^fatal: \[localhost\]: FAILED! => (\{.*\})$/m.exec(failed.output)?.[1];
    const message = (JSON.parse(fatal ?? '{}') as { msg?: string }).msg ?? failed.output;
    expect(message).toContain('telegraf_version "latest!" is not a version');
    expect(message).toContain('are not usable: give scheme, host and optional port');
    expect(message).toContain('telegraf_influxdb_database "bad db" must be a database name');
    expect(message).toContain('telegraf_interval "10 seconds"');
    expect(message).toContain('telegraf_config_id "NOT-HEX"');
    expect(message).toContain('The offline method found 0 usable package file(s)');
    // All of them at once, in one failure: no fix-one-rerun-find-the-next.
    expect(failed.output.match(/^fatal: /gm)).toHaveLength(1);
  });
});
