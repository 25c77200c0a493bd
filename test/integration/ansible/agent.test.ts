import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLine } from '../../../src/ansible/parse-event-line.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../lab/lab.ts';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import { buildTelegrafDeb } from '../../support/telegraf-deb.ts';
import {
  listAgentLeftovers,
  openUplink as holdUplink,
  pingFrom,
  waitForReporting,
  waitForFreshPoint,
  type Uplink,
} from './agent-lab.ts';
import {
  explain,
  makeKeys,
  runPlaybook,
  totalChanged,
  writeAnsibleLab,
  writeLoginVars,
  type AnsibleLabFiles,
} from './ansible-lab.ts';

// One lab for the file: a proxy and two VMs behind it; InfluxDB on this machine's loopback, reached by
// the VMs only through a remote forward bound on the proxy's VPC address (the uplink).
const UPLINK_PORT = 18086;
const CONFIG_ID = '0123456789abcdef';
let lab: Lab;
let files: AnsibleLabFiles;
let influx: TestInflux;
let proxy: LabVm;
let targets: LabVm[];
let uplinkUrl: string;
let asCloudroot: string;
let deployVars: string;
const forwards: Uplink[] = [];

/** Holds the uplink `<proxy vpc address>:<port>` -> InfluxDB on this machine's loopback. */
async function openUplink(): Promise<void> {
  forwards.push(await holdUplink(lab, files, proxy, UPLINK_PORT, `127.0.0.1:${influx.port}`));
}

async function closeUplinks(): Promise<void> {
  for (const forward of forwards.splice(0)) await forward.close();
}

beforeAll(async () => {
  const keys = await makeKeys();
  [lab, influx] = await Promise.all([up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 2 }), startInflux()]);
  files = await writeAnsibleLab(lab, keys);
  proxy = lab.proxies()[0]!;
  targets = lab.targets();
  uplinkUrl = `http://${proxy.vpcAddress ?? ''}:${UPLINK_PORT}`;
  // Two versions of the stand-in package in the controller directory the offline method copies from.
  const debs = path.join(files.dir, 'debs');
  await buildTelegrafDeb({ version: '1.29.0', outDir: debs });
  await buildTelegrafDeb({ version: '1.30.0', outDir: debs });

  const login = await writeLoginVars(lab, files);
  const enroll = login.byPassword;
  // The proxy first: jumps to the VMs behind it then authenticate as cloudroot by key.
  for (const limit of [proxy.name, targets.map((vm) => vm.name).join(',')]) {
    const run = await runPlaybook(files, 'enroll.yml', { limit, extraVars: [enroll] });
    if (run.exitCode !== 0) throw new Error(`enroll ${limit}: ${explain(run)}`);
  }
  asCloudroot = login.asCloudroot;
  deployVars = await files.vars('deploy', {
    telegraf_install_method: 'offline',
    telegraf_offline_dir: debs,
    telegraf_version: '1.30.0',
    telegraf_influxdb_urls: [uplinkUrl],
    telegraf_project: 'acme',
    telegraf_network: proxy.vpcCidr,
    telegraf_interval: '2s',
    telegraf_flush_interval: '2s',
    telegraf_config_id: CONFIG_ID,
  });
});

afterAll(async () => {
  await closeUplinks();
  await lab?.down();
  await influx?.stop();
  await files?.remove();
});

describe('playbooks/prepare-proxy.yml', () => {
  it('lets a remote forward bound on the proxy VPC address reach InfluxDB from a VM behind it', async () => {
    // Without GatewayPorts, sshd binds the forward to the proxy's loopback whatever address is asked.
    await openUplink();
    expect(await pingFrom(lab, targets[0]!, uplinkUrl)).toBe(0);
    await closeUplinks();

    const run = await runPlaybook(files, 'prepare-proxy.yml', {
      limit: proxy.name,
      extraVars: [asCloudroot],
    });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(run.recap[proxy.name]?.changed).toBeGreaterThan(0);
    const effective = (await lab.sh(proxy, 'sshd -T')).split('\n');
    expect(effective).toEqual(
      expect.arrayContaining([
        'gatewayports clientspecified',
        'allowtcpforwarding yes',
        'clientaliveinterval 15',
      ]),
    );

    await openUplink();
    for (const vm of targets) expect(await pingFrom(lab, vm, uplinkUrl)).toBe(204);

    const again = await runPlaybook(files, 'prepare-proxy.yml', {
      limit: proxy.name,
      extraVars: [asCloudroot],
    });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
  });
});

describe('playbooks/deploy-agent.yml (offline method, uplink through the proxy)', () => {
  const limit = () => targets.map((vm) => vm.name).join(',');

  it('reports in --check mode on fresh VMs what it would do, without installing anything', async () => {
    const check = await runPlaybook(files, 'deploy-agent.yml', {
      limit: limit(),
      extraVars: [asCloudroot, deployVars],
      check: true,
    });
    expect(check.exitCode, explain(check)).toBe(0);
    expect(totalChanged(check)).toBeGreaterThan(0);
    for (const vm of targets) expect((await lab.exec(vm, 'dpkg-query -W telegraf')).exitCode).not.toBe(0);
  });

  it('runs Telegraf on every VM and its metrics land in InfluxDB with the host, project and network tags', async () => {
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: limit(),
      extraVars: [asCloudroot, deployVars],
    });
    expect(run.exitCode, explain(run)).toBe(0);

    const expected = targets.map((vm) => `${vm.name}|acme|${proxy.vpcCidr ?? ''}`).sort();
    for (const reporting of await waitForReporting(influx, expected.length))
      expect(reporting).toEqual(expected);
    for (const vm of targets) {
      expect(await lab.sh(vm, "dpkg-query -W -f='${Version}' telegraf")).toBe('1.30.0');
      expect(await lab.sh(vm, 'stat -c %a.%U /etc/telegraf/telegraf.conf')).toBe('640.telegraf\n');
      expect(await lab.sh(vm, 'pgrep -u telegraf -x telegraf >/dev/null && echo running')).toBe('running\n');
      // The deploy stamp: what the play left, for Outpost's fast path to compare.
      const sum = (await lab.sh(vm, 'sha256sum /etc/telegraf/telegraf.conf')).split(' ')[0];
      expect(JSON.parse(await lab.sh(vm, 'cat /etc/telegraf/outpost-stamp.json'))).toEqual({
        config_id: CONFIG_ID,
        telegraf_version: 'Telegraf 1.30.0 (Outpost test stand-in, NOT Telegraf)',
        files: { '/etc/telegraf/telegraf.conf': sum },
      });
    }
    // Every point names the configuration that sent it.
    const tagged = await influx.query(
      `SELECT count("uptime") FROM "agent_system" WHERE time > now() - 5m GROUP BY "host", "outpost_config"`,
    );
    expect(tagged.map((row) => `${String(row.host)}|${String(row.outpost_config)}`).sort()).toEqual(
      targets.map((vm) => `${vm.name}|${CONFIG_ID}`).sort(),
    );

    // The callback's events follow the schema, end with the same recap as the output, and say success.
    const parsed = run.eventText.trim().split('\n').map(parseEventLine);
    expect(parsed.filter((line) => !line.ok)).toEqual([]);
    const recap = run.events.find((event) => event.event === 'recap');
    expect(recap?.hosts).toEqual(
      Object.fromEntries(
        Object.entries(run.recap).map(([host, c]) => [
          host,
          {
            ok: c.ok,
            changed: c.changed,
            failed: c.failed,
            skipped: c.skipped,
            unreachable: c.unreachable,
            rescued: c.rescued,
            ignored: c.ignored,
          },
        ]),
      ),
    );
    expect(run.events.at(-1)).toMatchObject({ event: 'playbook_end', success: true });
    expect(run.events.map((event) => event.counter)).toEqual(run.events.map((_, i) => i + 1));
  });

  it('changes nothing on a second run, and a --check run reports no change', async () => {
    const again = await runPlaybook(files, 'deploy-agent.yml', {
      limit: limit(),
      extraVars: [asCloudroot, deployVars],
    });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
    const check = await runPlaybook(files, 'deploy-agent.yml', {
      limit: limit(),
      extraVars: [asCloudroot, deployVars],
      check: true,
    });
    expect(check.exitCode, explain(check)).toBe(0);
    expect(totalChanged(check), explain(check)).toBe(0);
  });

  it('downgrades to a pinned older version and keeps reporting', async () => {
    const vm = targets[0]!;
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: vm.name,
      extraVars: [asCloudroot, deployVars, '{"telegraf_version":"1.29.0"}'],
    });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(await lab.sh(vm, "dpkg-query -W -f='${Version}' telegraf")).toBe('1.29.0');
    expect(await lab.sh(vm, 'telegraf --version')).toContain('1.29.0');
    await waitForFreshPoint(influx, vm.name, Date.now());
  });

  it('fails with a message naming the output URL when it does not answer /ping, and leaves the agent as it was', async () => {
    const vm = targets[1]!;
    const wrongUrl = `http://${proxy.vpcAddress ?? ''}:${UPLINK_PORT + 1}`;
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: vm.name,
      extraVars: [
        asCloudroot,
        deployVars,
        JSON.stringify({ telegraf_influxdb_urls: [wrongUrl], telegraf_ping_retries: 0 }),
      ],
    });
    expect(run.exitCode).not.toBe(0);
    const failure = run.events.find((event) => event.event === 'host_result' && event.status === 'failed');
    expect(failure?.msg).toContain(`GET ${wrongUrl}/ping got no answer`);
    expect(run.events.at(-1)).toMatchObject({ event: 'playbook_end', success: false });
    expect(await lab.sh(vm, 'grep urls /etc/telegraf/telegraf.conf')).toContain(uplinkUrl);
    expect(await lab.sh(vm, '/etc/init.d/telegraf status')).toContain('is running');
  });

  it('refuses a configuration Telegraf rejects, keeping the running one', async () => {
    const vm = targets[1]!;
    const before = await lab.sh(vm, 'cat /etc/telegraf/telegraf.conf');
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: vm.name,
      extraVars: [asCloudroot, deployVars, JSON.stringify({ telegraf_extra_inputs: { no_such_plugin: {} } })],
    });
    expect(run.exitCode).not.toBe(0);
    const failure = run.events.find((event) => event.event === 'host_result' && event.status === 'failed');
    expect(failure?.task).toContain('validated by Telegraf');
    expect(failure?.msg).toContain('no_such_plugin');
    expect(await lab.sh(vm, 'cat /etc/telegraf/telegraf.conf')).toBe(before);
    expect(await lab.sh(vm, '/etc/init.d/telegraf status')).toContain('is running');
  });

  it('says what the repo method needs when the VM cannot download from the repository', async () => {
    const vm = targets[1]!;
    // A lab address that refuses connections stands in for an unreachable repos.influxdata.com.
    const keyUrl = `http://${proxy.vpcAddress ?? ''}:9/influxdata-archive.key`;
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: vm.name,
      extraVars: [
        asCloudroot,
        deployVars,
        JSON.stringify({ telegraf_install_method: 'repo', telegraf_repo_key_url: keyUrl }),
      ],
    });
    expect(run.exitCode).not.toBe(0);
    const failure = run.events.find((event) => event.event === 'host_result' && event.status === 'failed');
    expect(failure?.msg).toContain(`cannot download ${keyUrl}`);
    expect(failure?.msg).toContain('use telegraf_install_method offline');
  });
});

describe('playbooks/remove-agent.yml', () => {
  it('leaves no package, configuration or process, and a second run changes nothing', async () => {
    const limit = targets.map((vm) => vm.name).join(',');
    const run = await runPlaybook(files, 'remove-agent.yml', { limit, extraVars: [asCloudroot] });
    expect(run.exitCode, explain(run)).toBe(0);
    for (const vm of targets) {
      expect((await lab.exec(vm, 'dpkg-query -W telegraf')).exitCode).not.toBe(0);
      expect(await listAgentLeftovers(lab, vm), vm.name).toBe('');
    }
    const again = await runPlaybook(files, 'remove-agent.yml', { limit, extraVars: [asCloudroot] });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
  });
});
