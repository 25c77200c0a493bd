/**
 * Every role's RedHat branch, run for real on the lab's RedHat-family SIMULATION (`redhat-sim`, NOT
 * RHEL: a RHEL 9 clone's facts over Debian's files, with real rpm and dnf, an `sshd` service, and no
 * apt). One lab for the file, as small as covers every branch: a redhat-sim proxy, a redhat-sim VM
 * behind it (its BaseOS repository unreachable, as in an air-gapped VPC) and a redhat-sim VM the
 * control plane reaches directly; a signed dnf repository and InfluxDB on the control plane's lab address.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEnrollScript } from '../../../src/secrets/render-enroll-script.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../lab/lab.ts';
import { SIM_RELEASE } from '../../lab/redhat-sim.ts';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import { startLabRpmRepo, type LabRpmRepo } from '../../support/lab-rpm-repo.ts';
import {
  listAgentLeftovers,
  openUplink,
  pingFrom,
  waitForReporting,
  waitForFreshPoint,
  type Uplink,
} from './agent-lab.ts';
import {
  explain,
  makeKeys,
  readRecordedFacts,
  runPlaybook,
  sshAsCloudroot,
  totalChanged,
  writeAnsibleLab,
  writeLoginVars,
  type AnsibleLabFiles,
  type PlaybookRun,
} from './ansible-lab.ts';

const UPLINK_PORT = 18086;
let lab: Lab;
let files: AnsibleLabFiles;
let influx: TestInflux;
let repo: LabRpmRepo;
let proxy: LabVm;
let vm1: LabVm;
let direct: LabVm;
let byPassword: string;
let byKey: string;
let asCloudroot: string;
let uplink: Uplink | undefined;

const failureOf = (run: PlaybookRun) =>
  run.events.find((event) => event.event === 'host_result' && event.status === 'failed');
const rpmVersion = (vm: LabVm) => lab.sh(vm, "rpm -q --qf '%{VERSION}' telegraf");

beforeAll(async () => {
  const keys = await makeKeys();
  lab = await up({
    slot: defaultSlot(),
    vpcs: 1,
    vmsPerVpc: 1,
    directVms: 1,
    osFamily: 'redhat-sim',
    authorizedKeys: [keys.userPublicKey],
  });
  [influx, repo] = await Promise.all([
    startInflux({ bindAddress: lab.controlAddress }),
    startLabRpmRepo({ controlAddress: lab.controlAddress, versions: ['1.29.0', '1.30.0'] }),
  ]);
  files = await writeAnsibleLab(lab, keys);
  proxy = lab.proxies()[0]!;
  vm1 = lab.targets()[0]!;
  direct = lab.directs()[0]!;
  ({ byPassword, byKey, asCloudroot } = await writeLoginVars(lab, files));
});

afterAll(async () => {
  await uplink?.close();
  await lab?.down();
  await Promise.all([influx?.stop(), repo?.stop()]);
  await files?.remove();
});

describe('redhat-sim VMs: playbooks/enroll.yml (role cloudroot, RedHat branch)', () => {
  it('enrolls with a password, a key and the enrollment script, after a --check run that changes nothing', async () => {
    // The image user is in wheel, which RHEL's sudoers lets in; its drop-ins are read through '#includedir'.
    expect(await lab.sh(proxy, 'id -nG debian; grep includedir /etc/sudoers')).toBe(
      'debian wheel\n#includedir /etc/sudoers.d\n',
    );
    // The proxy first (jumps to the VMs behind it use its cloudroot); meanwhile a --check run elsewhere.
    const [first, check] = await Promise.all([
      runPlaybook(files, 'enroll.yml', { limit: proxy.name, extraVars: [byPassword] }),
      runPlaybook(files, 'enroll.yml', { limit: direct.name, extraVars: [byPassword], check: true }),
    ]);
    expect(first.exitCode, explain(first)).toBe(0);
    expect(check.exitCode, explain(check)).toBe(0);
    expect(check.recap[direct.name]?.changed).toBeGreaterThan(0);
    expect((await lab.exec(direct, 'id cloudroot')).exitCode).not.toBe(0);
    // Meanwhile the VM behind the proxy runs the enrollment script (through `lab exec`, no jump).
    const script = renderEnrollScript({
      project: 'acme',
      adminKey: files.adminPublicKey,
      projectKey: files.projectPublicKey,
    });
    const [keyRun, ran] = await Promise.all([
      runPlaybook(files, 'enroll.yml', { limit: direct.name, extraVars: [byKey] }),
      lab.exec(vm1, 'sh -s', { input: script }),
    ]);
    expect(keyRun.exitCode, explain(keyRun)).toBe(0);
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('installed sudoers rule /etc/sudoers.d/outpost-cloudroot');

    for (const vm of [proxy, direct, vm1]) {
      const login = await sshAsCloudroot(files, vm, 'sudo -n id -un');
      expect(login.exitCode, `${vm.name}: ${login.stderr}`).toBe(0);
      expect(login.stdout).toBe('root');
      expect(await lab.sh(vm, 'getent shadow cloudroot | cut -d: -f2')).toBe('*\n');
    }
    expect(await lab.sh(proxy, 'stat -c %a.%U ~cloudroot/.ssh ~cloudroot/.ssh/authorized_keys')).toBe(
      '700.cloudroot\n600.cloudroot\n',
    );
  });

  it('changes nothing on a second run', async () => {
    const limit = [proxy, direct].map((vm) => vm.name).join(',');
    const again = await runPlaybook(files, 'enroll.yml', { limit, extraVars: [byPassword] });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
  });
});

describe('redhat-sim VMs: playbooks/probe.yml', () => {
  it('records facts that name the RedHat family and the clone release', async () => {
    const run = await runPlaybook(files, 'probe.yml', { extraVars: [asCloudroot] });
    expect(run.exitCode, explain(run)).toBe(0);
    const facts = readRecordedFacts(run);
    expect(Object.keys(facts).sort()).toEqual(lab.vms.map((vm) => vm.name).sort());
    for (const vm of lab.vms) {
      expect(facts[vm.name], vm.name).toMatchObject({
        os: `${SIM_RELEASE.distribution} ${SIM_RELEASE.version}`,
        family: 'RedHat',
        interpreter: expect.stringMatching(/^\/usr\/bin\/python3/) as unknown,
      });
    }
  });
});

describe('redhat-sim proxy: playbooks/prepare-proxy.yml (role ssh_proxy_node, sshd service)', () => {
  it('keeps sshd_config when sshd -t rejects the new settings', async () => {
    const before = await lab.sh(proxy, 'cat /etc/ssh/sshd_config');
    // The role's own checks let this through; sshd refuses a MaxStartups whose start exceeds its full.
    const run = await runPlaybook(files, 'prepare-proxy.yml', {
      limit: proxy.name,
      extraVars: [asCloudroot, '{"ssh_proxy_node_max_startups":"100:30:50"}'],
    });
    expect(run.exitCode).not.toBe(0);
    expect(failureOf(run)?.msg).toContain('failed to validate');
    expect(await lab.sh(proxy, 'cat /etc/ssh/sshd_config')).toBe(before);
  });

  it('reloads the sshd service so a remote forward bound on the VPC address reaches InfluxDB from behind it; a second run and --check change nothing', async () => {
    const uplinkUrl = `http://${proxy.vpcAddress ?? ''}:${UPLINK_PORT}`;
    const target = `${lab.controlAddress}:${influx.port}`;
    const early = await openUplink(lab, files, proxy, UPLINK_PORT, target);
    expect(await pingFrom(lab, vm1, uplinkUrl)).toBe(0);
    await early.close();

    const run = await runPlaybook(files, 'prepare-proxy.yml', {
      limit: proxy.name,
      extraVars: [asCloudroot],
    });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(run.stdout).toMatch(/RUNNING HANDLER \[ssh_proxy_node : Reload sshd\][^]*changed: \[vpc1-proxy\]/);
    expect(await lab.sh(proxy, 'service sshd status')).toContain('is running');
    uplink = await openUplink(lab, files, proxy, UPLINK_PORT, target);
    expect(await pingFrom(lab, vm1, uplinkUrl)).toBe(204);

    const runs = await Promise.all(
      [false, true].map((checkMode) =>
        runPlaybook(files, 'prepare-proxy.yml', {
          limit: proxy.name,
          extraVars: [asCloudroot],
          check: checkMode,
        }),
      ),
    );
    for (const run of runs) {
      expect(run.exitCode, explain(run)).toBe(0);
      expect(totalChanged(run), explain(run)).toBe(0);
    }
  });
});

describe('redhat-sim VMs: playbooks/deploy-agent.yml (role telegraf: repo, url, offline)', () => {
  const all = () => [proxy, direct, vm1].map((vm) => vm.name).join(',');
  let deployVars: string;

  beforeAll(async () => {
    deployVars = await files.vars('deploy', {
      telegraf_project: 'acme',
      telegraf_interval: '2s',
      telegraf_flush_interval: '2s',
      telegraf_repo_key_url: repo.keyUrl,
      telegraf_repo_yum_baseurl: repo.telegrafBaseurl,
      telegraf_offline_dir: repo.packageDir,
    });
    // One play covers every method: the direct VM uses the repository, the proxy a package URL, and
    // the VM behind the proxy (no route to any repository) the package copied from the controller.
    const uplinkUrl = `http://${proxy.vpcAddress ?? ''}:${UPLINK_PORT}`;
    const checksum = createHash('sha256')
      .update(await readFile(path.join(repo.packageDir, 'telegraf-1.30.0-1.noarch.rpm')))
      .digest('hex');
    await files.setHostVars(direct.name, {
      telegraf_install_method: 'repo',
      telegraf_repo_key_fingerprint: repo.fingerprint,
      telegraf_version: '1.29.0',
      telegraf_influxdb_urls: [influx.url],
    });
    await files.setHostVars(proxy.name, {
      telegraf_install_method: 'url',
      telegraf_package_url: repo.packageUrl('1.30.0'),
      telegraf_package_checksum: `sha256:${checksum}`,
      telegraf_package_key_file: repo.keyFile,
      telegraf_influxdb_urls: [influx.url],
    });
    await files.setHostVars(vm1.name, {
      telegraf_install_method: 'offline',
      telegraf_version: '1.30.0',
      telegraf_influxdb_urls: [uplinkUrl],
      telegraf_network: vm1.vpcCidr,
    });
  });

  it('trusts no key it cannot verify: a repository key with another fingerprint, a package file signed by an unknown key', async () => {
    await files.setHostVars(direct.name, { telegraf_repo_key_fingerprint: '0'.repeat(40) });
    await files.setHostVars(vm1.name, { telegraf_package_key_file: 'no-such.key' });
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: [direct.name, vm1.name].join(','),
      extraVars: [asCloudroot, deployVars],
    });
    await files.setHostVars(direct.name, { telegraf_repo_key_fingerprint: repo.fingerprint });
    await files.setHostVars(vm1.name, { telegraf_package_key_file: 'influxdata-archive.key' });
    expect(run.exitCode).not.toBe(0);
    const failures = run.events.filter((event) => event.event === 'host_result' && event.status === 'failed');
    expect(failures.find((event) => event.host === direct.name)?.msg).toContain(repo.fingerprint);
    expect(failures.filter((event) => event.host === vm1.name).at(-1)?.msg).toMatch(
      /Public key for telegraf-1\.30\.0-1\.noarch\.rpm is not installed.*give the public key that signs it as telegraf_package_key_file/,
    );
    expect((await lab.exec(direct, 'ls /etc/yum.repos.d')).stdout).toBe('outpost-lab.repo\n');
    for (const vm of [direct, vm1])
      expect((await lab.exec(vm, 'rpm -q gpg-pubkey telegraf')).stdout).toBe(
        'package gpg-pubkey is not installed\npackage telegraf is not installed\n',
      );
  });

  it('reports in --check mode on fresh VMs what it would do, without installing anything', async () => {
    const check = await runPlaybook(files, 'deploy-agent.yml', {
      limit: all(),
      extraVars: [asCloudroot, deployVars],
      check: true,
    });
    expect(check.exitCode, explain(check)).toBe(0);
    for (const vm of lab.vms) {
      expect(check.recap[vm.name]?.changed, vm.name).toBeGreaterThan(0);
      expect((await lab.exec(vm, 'rpm -q telegraf')).exitCode, vm.name).not.toBe(0);
    }
  });

  it('installs the signed stand-in with dnf by every method, and every VM reports to InfluxDB', async () => {
    // Behind the proxy the VM's own repository is out of reach, as in an air-gapped VPC.
    expect((await lab.exec(vm1, 'dnf -q makecache')).stderr).toContain(
      "Failed to download metadata for repo 'outpost-lab-baseos'",
    );
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: all(),
      extraVars: [asCloudroot, deployVars],
    });
    expect(run.exitCode, explain(run)).toBe(0);

    const expected = [
      `${direct.name}|acme|`,
      `${proxy.name}|acme|`,
      `${vm1.name}|acme|${vm1.vpcCidr ?? ''}`,
    ].sort();
    for (const reporting of await waitForReporting(influx, expected.length))
      expect(reporting).toEqual(expected);
    expect(await rpmVersion(direct)).toBe('1.29.0');
    for (const vm of [proxy, vm1]) expect(await rpmVersion(vm), vm.name).toBe('1.30.0');
    for (const vm of lab.vms) {
      expect(await lab.sh(vm, 'stat -c %a.%U /etc/telegraf/telegraf.conf'), vm.name).toBe('640.telegraf\n');
      expect(await lab.sh(vm, 'service telegraf status'), vm.name).toContain('is running');
      // The Debian branch never ran: no apt source, and the VM has no apt to run.
      expect(
        (await lab.exec(vm, 'ls /etc/apt/sources.list.d/influxdata.list; command -v apt-get')).stdout,
      ).toBe('');
    }
    // repo: the key is trusted by its fingerprint, the repository checks signatures, and dnf fetched from it.
    expect(await lab.sh(direct, "rpm -q gpg-pubkey --qf '%{VERSION}'")).toBe(
      repo.fingerprint.slice(-8).toLowerCase(),
    );
    const repoFile = await lab.sh(direct, 'cat /etc/yum.repos.d/influxdata.repo');
    expect(repoFile).toContain(`baseurl = ${repo.telegrafBaseurl}\n`);
    expect(repoFile).toContain('gpgcheck = 1\n');
    expect(await lab.sh(direct, 'rpm -qi telegraf')).toMatch(
      new RegExp(`^Signature +: RSA/SHA\\d+, .*Key ID ${repo.fingerprint.slice(-16).toLowerCase()}$`, 'm'),
    );
    expect(repo.requests).toContain(new URL(repo.packageUrl('1.29.0')).pathname);
  });

  it('upgrades (repo) and downgrades (offline) a pinned version, and the agents keep reporting', async () => {
    await files.setHostVars(direct.name, { telegraf_version: '1.30.0' });
    await files.setHostVars(vm1.name, { telegraf_version: '1.29.0' });
    const run = await runPlaybook(files, 'deploy-agent.yml', {
      limit: [direct.name, vm1.name].join(','),
      extraVars: [asCloudroot, deployVars],
    });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(await rpmVersion(direct)).toBe('1.30.0');
    expect(await rpmVersion(vm1)).toBe('1.29.0');
    expect(await lab.sh(vm1, 'telegraf --version')).toContain('1.29.0');
    const since = Date.now();
    await Promise.all([direct, vm1].map((vm) => waitForFreshPoint(influx, vm.name, since)));
  });

  it('changes nothing on a second run, and a --check run reports no change', async () => {
    // Side by side: neither should change anything, so neither can disturb the other.
    const [again, check] = await Promise.all([
      runPlaybook(files, 'deploy-agent.yml', { limit: all(), extraVars: [asCloudroot, deployVars] }),
      runPlaybook(files, 'deploy-agent.yml', {
        limit: all(),
        extraVars: [asCloudroot, deployVars],
        check: true,
      }),
    ]);
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
    expect(check.exitCode, explain(check)).toBe(0);
    expect(totalChanged(check), explain(check)).toBe(0);
  });
});

describe('redhat-sim VMs: playbooks/remove-agent.yml', () => {
  it('leaves no package, configuration, process or user, and a second run changes nothing', async () => {
    const limit = lab.vms.map((vm) => vm.name).join(',');
    const run = await runPlaybook(files, 'remove-agent.yml', { limit, extraVars: [asCloudroot] });
    expect(run.exitCode, explain(run)).toBe(0);
    for (const vm of lab.vms) {
      expect((await lab.exec(vm, 'rpm -q telegraf')).exitCode, vm.name).not.toBe(0);
      expect(await listAgentLeftovers(lab, vm), vm.name).toBe('');
    }
    const again = await runPlaybook(files, 'remove-agent.yml', { limit, extraVars: [asCloudroot] });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(totalChanged(again), explain(again)).toBe(0);
  });
});
