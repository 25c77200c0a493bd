import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configIdOf, digestRoleFiles } from '../../../../src/jobs/agent/config-id.ts';
import { AGENT_FILES } from '../../../../src/jobs/agent/probe-agents.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
let copy: string;

beforeAll(async () => {
  // A copy of the repository's role and deploy playbook, to change one line in.
  copy = await mkdtemp(path.join(os.tmpdir(), 'outpost-config-id-'));
  await cp(path.join(ROOT, 'roles/telegraf'), path.join(copy, 'roles/telegraf'), { recursive: true });
  await cp(path.join(ROOT, 'playbooks/deploy-agent.yml'), path.join(copy, 'playbooks/deploy-agent.yml'));
});
afterAll(() => rm(copy, { recursive: true, force: true }));

const base = {
  roleDigest: 'r',
  packageDigest: 'p',
  vars: {
    telegraf_influxdb_urls: ['http://198.51.100.1:18086'],
    telegraf_hostname: 'vm1',
    telegraf_network: '',
  },
  secretVars: { telegraf_influxdb_password: 'hunter2' },
  secretKey: Buffer.from('k'),
};

describe('configIdOf', () => {
  it('is 16 hex digits and the same for the same inputs, whatever the order of their keys', () => {
    const id = configIdOf(base);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(configIdOf({ ...base, vars: Object.fromEntries(Object.entries(base.vars).reverse()) })).toBe(id);
  });

  it('changes with one variable, the role, the package source, a credential or the key of its digest', () => {
    const id = configIdOf(base);
    const others = [
      configIdOf({ ...base, vars: { ...base.vars, telegraf_network: '198.51.100.0/24' } }),
      configIdOf({ ...base, roleDigest: 'r2' }),
      configIdOf({ ...base, packageDigest: 'p2' }),
      configIdOf({ ...base, secretVars: { telegraf_influxdb_password: 'hunter3' } }),
      configIdOf({ ...base, secretKey: Buffer.from('other') }),
    ];
    for (const other of others) expect(other).not.toBe(id);
    expect(new Set(others).size).toBe(others.length);
  });
});

describe('digestRoleFiles', () => {
  it("changes when one line of a role file changes, and not when the role's README does", async () => {
    const before = await digestRoleFiles(copy);
    expect(await digestRoleFiles(copy)).toBe(before);
    const readme = path.join(copy, 'roles/telegraf/README.md');
    await writeFile(readme, `${await readFile(readme, 'utf8')}\nA note.\n`);
    expect(await digestRoleFiles(copy)).toBe(before);
    const template = path.join(copy, 'roles/telegraf/templates/telegraf.conf.j2');
    const text = await readFile(template, 'utf8');
    await writeFile(template, text.replace('metric_batch_size = 1000', 'metric_batch_size = 2000'));
    expect(await digestRoleFiles(copy)).not.toBe(before);
  });
});

describe("the fast path's paths", () => {
  it("are the role's defaults: the stamp, the configuration and the binary it reads are the ones the play writes", async () => {
    const defaults = yaml.load(
      await readFile(path.join(ROOT, 'roles/telegraf/defaults/main.yml'), 'utf8'),
    ) as Record<string, string>;
    const dir = defaults.telegraf_config_dir ?? '';
    expect(AGENT_FILES.config).toBe(`${dir}/telegraf.conf`);
    expect(AGENT_FILES.binary).toBe(defaults.telegraf_binary);
    expect(defaults.telegraf_stamp_file?.replace('{{ telegraf_config_dir }}', dir)).toBe(AGENT_FILES.stamp);
  });
});
