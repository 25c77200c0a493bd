import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { stopControlMasters } from '../../src/ssh/stop-control-masters.ts';
import { writeInventory } from '../../src/inventory/write-inventory.ts';
import { Registry } from '../../src/registry/registry.ts';
import { writeProjectInventory } from '../../src/registry/write-project-inventory.ts';
import { KeyStore } from '../../src/secrets/key-store.ts';
import { up, type Lab, type LabVm } from '../../test/lab/lab.ts';
import { buildTelegrafDeb } from '../../test/support/telegraf-deb.ts';
import { nowMs } from './stats.ts';
import { ROOT } from './report.ts';
import { labEntities } from '../../test/support/lab-entities.ts';
import { createCloudroot } from '../../test/integration/inventory/reach-lab.ts';

/** The master key the bench services run with (OUTPOST_MASTER_KEY in outpost-service.ts). */
export const BENCH_MASTER_KEY = Buffer.from('0'.repeat(63) + '1', 'hex');
export const PROJECT = 'bench';

/** A lab VPC of `targets` VMs behind one proxy, registered in Outpost's registry, cloudroot on every VM. */
export interface Fleet {
  lab: Lab;
  dir: string;
  proxy: LabVm;
  targets: LabVm[];
  registry: Registry;
  keys: KeyStore;
  /** Extra vars of deploy-agent: the offline stand-in package, an output URL on a lab address, no /ping check. */
  deployVars: Record<string, unknown>;
  /** Writes Outpost's generated inventory for the project into a fresh dir; returns hosts.yml and a cleanup. */
  generatedInventory(): Promise<{
    hostsFile: string;
    sshConfig: string;
    dir: string;
    cleanup(): Promise<void>;
  }>;
  close(): Promise<void>;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

/**
 * Runs playbooks/prepare-proxy.yml on the proxy, as Outpost's prepare-proxy job does before any deploy:
 * roles/ssh_proxy_node raises sshd's MaxStartups to 100:30:200, without which sshd drops connections once
 * more than 10 are unauthenticated (20 hosts jumping at once on 2 loaded cores).
 */
async function prepareProxy(dir: string, registry: Registry, keys: KeyStore, proxy: LabVm): Promise<void> {
  const written = await writeInventory({
    dir: path.join(dir, 'inv-proxy'),
    project: PROJECT,
    hosts: [],
    proxies: await registry.listProxies({ project: PROJECT }),
    keys: { project: await keys.projectPrivateKey(PROJECT) },
  });
  try {
    const run = await runPlain(
      written.hostsFile,
      path.join(ROOT, 'playbooks/prepare-proxy.yml'),
      await writeVars(dir, 'prepare-proxy-vars', {}),
      path.join(dir, 'cp-prepare-proxy'),
    );
    if (run.exitCode !== 0) throw new Error(`prepare-proxy.yml on ${proxy.name} failed:\n${run.tail}`);
  } finally {
    await stopControlMasters(written.sshConfig, [proxy.name]).catch(() => undefined);
    await rm(written.dir, { recursive: true, force: true });
  }
}

/** Brings the lab up and registers it; `redisUrl` is the Redis the bench's `outpost serve` uses. */
export async function setupFleet(options: {
  slot: number;
  targets: number;
  redisUrl: string;
}): Promise<Fleet> {
  const started = nowMs();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-fleet-'));
  const lab = await up({ slot: options.slot, vpcs: 1, vmsPerVpc: options.targets, directVms: 0 });
  const redis = new Redis(options.redisUrl);
  const keys = new KeyStore(redis, BENCH_MASTER_KEY, 'outpost:');
  const registry = new Registry(redis, 'outpost:', { keys });
  try {
    const project = await registry.createProject({ id: PROJECT });
    const proxy = lab.proxies()[0] as LabVm;
    const targets = lab.targets();
    // cloudroot as enrollment leaves it: key-only login with both keys, passwordless sudo.
    const publicKeys = [project.publicKeys.admin, project.publicKeys.project];
    await eachLimited([proxy, ...targets], 8, (vm) => createCloudroot(lab, vm, publicKeys));
    const entities = labEntities(lab, PROJECT);
    for (const body of entities.proxies) await registry.createProxy(body);
    for (const body of entities.hosts) await registry.createHost(body);
    await prepareProxy(dir, registry, keys, proxy);
    const debDir = path.join(dir, 'debs');
    await buildTelegrafDeb({ outDir: debDir });
    console.log(
      `  lab of 1 proxy + ${targets.length} VMs ready in ${Math.round((nowMs() - started) / 1000)} s`,
    );
    return {
      lab,
      dir,
      proxy,
      targets,
      registry,
      keys,
      deployVars: {
        telegraf_install_method: 'offline',
        telegraf_offline_dir: debDir,
        telegraf_project: PROJECT,
        telegraf_influxdb_urls: [`http://${proxy.vpcAddress ?? ''}:18086`],
        telegraf_ping_check: false,
      },
      async generatedInventory() {
        const invDir = await mkdtemp(path.join(dir, 'inv-'));
        const written = await writeProjectInventory({ registry, keys }, PROJECT, invDir);
        return {
          hostsFile: written.hostsFile,
          sshConfig: written.sshConfig,
          dir: invDir,
          cleanup: async () => {
            await stopControlMasters(written.sshConfig, [proxy.name]).catch(() => undefined);
            await rm(invDir, { recursive: true, force: true });
          },
        };
      },
      async close() {
        await redis.quit().catch(() => undefined);
        await lab.down();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await redis.quit().catch(() => undefined);
    await lab.down();
    throw error;
  }
}

/** The result of one plain ansible-playbook run. */
export interface PlainRun {
  seconds: number;
  exitCode: number;
  recap: string;
  tail: string;
  /** The `fatal:` / `failed:` lines of the run (host, task result), each cut at 400 characters. */
  failures: string[];
}

/** Runs plain `ansible-playbook` from the repository root (its ansible.cfg), timed, control sockets in `controlDir`. */
export async function runPlain(
  inventory: string,
  playbook: string,
  varsFile: string,
  controlDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<PlainRun> {
  await mkdir(controlDir, { recursive: true, mode: 0o700 });
  const start = nowMs();
  const result = await execa(
    'ansible-playbook',
    ['-i', inventory, playbook, '-e', `@${varsFile}`, ...extra],
    {
      cwd: ROOT,
      reject: false,
      all: true,
      env: {
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        ...env,
      },
      timeout: 1_800_000,
    },
  );
  const seconds = (nowMs() - start) / 1000;
  const all = result.all ?? '';
  return {
    seconds,
    exitCode: result.exitCode ?? -1,
    recap: all.slice(all.lastIndexOf('PLAY RECAP')).trim(),
    tail: all.slice(-3000),
    failures: all
      .split('\n')
      .filter((line) => /^(fatal|failed): \[/.test(line))
      .map((line) => line.slice(0, 400)),
  };
}

/** Writes JSON extra vars to a 0600 file and returns its path. */
export async function writeVars(dir: string, name: string, vars: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(vars), { mode: 0o600 });
  return file;
}
