import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.ts';
import { jobInputSchema } from '../../../src/http/job-input.ts';
import { parseInput } from '../../../src/http/parse-input.ts';

function refusal(body: unknown): ValidationError {
  try {
    parseInput(jobInputSchema, body, 'body');
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

const ATTACKER_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFZLf2ESsXUCAdO2LfCt4MjqgEHqJnW775BrT4CH96B mallory';

describe('job extra vars that would override what Outpost sets', () => {
  it.each([
    ['enroll', 'cloudroot_authorized_keys', [ATTACKER_KEY]],
    ['rotate-key', 'cloudroot_revoked_keys', []],
    ['deploy-agent', 'telegraf_influxdb_urls', ['http://203.0.113.66:8086']],
    ['deploy-agent', 'telegraf_offline_dir', '/root/.ssh'],
    ['deploy-agent', '_telegraf_private', 1],
    ['prepare-proxy', 'ssh_proxy_node_gateway_ports', 'yes'],
    ['probe', 'outpost_facts_dir', '/etc'],
    ['probe', '__probe_uid', 'x'],
    ['remove-agent', 'telegraf_state', 'present'],
  ])('refuses a %s job setting %s, naming the variable', (kind, name, value) => {
    const error = refusal({ kind, project: 'shop', options: { extraVars: { [name]: value } } });
    expect(error.field).toBe(`body.options.extraVars.${name}`);
    expect(error.message).toMatch(/reserved/);
  });

  it.each([
    'ansible_ssh_common_args',
    'ansible_ssh_extra_args',
    'ansible_host',
    'ansible_port',
    'ansible_user',
    'ansible_ssh_private_key_file',
    'ansible_connection',
    'ansible_become_password',
    'ansible_python_interpreter',
    'ansible_shell_executable',
    'ANSIBLE_HOST',
    '_ansible_no_log',
    'outpost_job_id',
  ])('refuses %s in a run-playbook job of its own playbook', (name) => {
    const error = refusal({
      kind: 'run-playbook',
      hosts: ['web-1'],
      playbook: 'test/fixtures/playbooks/ping.yml',
      options: { extraVars: { [name]: '-o ProxyCommand=touch /tmp/pwned' } },
    });
    expect(error.field).toBe(`body.options.extraVars.${name}`);
  });

  it.each([
    ['probe', 'inventory_hostname', '../../../../etc/outpost-escaped'],
    ['deploy-agent', 'inventory_hostname_short', 'web-2'],
    ['deploy-agent', 'group_names', ['proxies']],
    ['enroll', 'inventory_dir', '/etc'],
    ['remove-agent', 'inventory_file', '/etc/hosts'],
    ['run-playbook', 'inventory_hostname', 'web-2'],
  ])(
    'refuses a %s job setting the magic variable %s (extra vars beat the inventory)',
    (kind, name, value) => {
      const body =
        kind === 'run-playbook'
          ? { kind, hosts: ['web-1'], playbook: 'test/fixtures/playbooks/ping.yml' }
          : { kind, project: 'shop' };
      const error = refusal({ ...body, options: { extraVars: { [name]: value } } });
      expect(error.field).toBe(`body.options.extraVars.${name}`);
      expect(error.message).toMatch(/reserved: .*Ansible/);
    },
  );

  it("refuses role variables in a run-playbook job of one of Outpost's own playbooks", () => {
    const error = refusal({
      kind: 'run-playbook',
      hosts: ['web-1'],
      playbook: 'playbooks/enroll.yml',
      options: { extraVars: { cloudroot_authorized_keys: [ATTACKER_KEY] } },
    });
    expect(error.field).toBe('body.options.extraVars.cloudroot_authorized_keys');
  });

  it('keeps free variables for a run-playbook job of its own playbook, and plain ones for every kind', () => {
    const ownPlaybook = parseInput(
      jobInputSchema,
      {
        kind: 'run-playbook',
        hosts: ['web-1'],
        playbook: 'test/fixtures/playbooks/slow.yml',
        options: { extraVars: { sleep_seconds: 1, telegraf_interval: '5s', cloudroot_user: 'x' } },
      },
      'body',
    );
    expect(ownPlaybook.options?.extraVars).toEqual({
      sleep_seconds: 1,
      telegraf_interval: '5s',
      cloudroot_user: 'x',
    });
    const deploy = parseInput(
      jobInputSchema,
      { kind: 'deploy-agent', project: 'shop', options: { extraVars: { change_ticket: 'CHG-1' } } },
      'body',
    );
    expect(deploy.options?.extraVars).toEqual({ change_ticket: 'CHG-1' });
  });
});
