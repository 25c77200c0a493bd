/**
 * The whole mission on the lab, as an operator would do it with the `outpost` CLI: register proxies
 * and hosts, enroll VMs three ways, prepare the proxies, deploy the agent everywhere, and see every
 * VM report into InfluxDB. `npm run demo` prints it step by step; test/e2e drives the same steps and
 * asserts on them, so the demo cannot drift from what is tested.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ownChild } from '../src/embedded/own-child.ts';
import { down, up, type Lab } from '../test/lab/lab.ts';
import { freePort } from '../test/support/free-port.ts';
import { buildTelegrafDeb } from '../test/support/telegraf-deb.ts';
import { buildSignedTelegrafRpm } from '../test/support/telegraf-rpm.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
export const PROJECT = 'demo';

/** What the mission's steps print: a heading, a command shown as typed, or what it answered. */
export interface Narrator {
  step(title: string): void;
  command(line: string): void;
  output(text: string): void;
}

export interface Mission {
  lab: Lab;
  work: string;
  /** The API base URL and token of the running `outpost serve`. */
  url: string;
  token: string;
  /** The embedded InfluxDB the agents write to. */
  influxUrl: string;
  /** Runs `outpost ARGS...` as the operator would, narrated; rejects when it exits non-zero. */
  outpost(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<string>;
  /** Calls the HTTP API with the token. */
  api<T>(method: string, route: string, body?: unknown): Promise<T>;
  /** Every host id: VPC VMs and the direct VM. */
  hostIds(): string[];
  stop(): Promise<void>;
}

/** Undoes what the mission started so far, newest first; safe to call again (later calls wait for the first). */
export type StopMission = () => Promise<void>;

/** The lab's size: VPCs, target VMs per VPC, directly reachable VMs, extra RedHat-family simulation VMs. */
export interface LabShape {
  vpcs: number;
  vmsPerVpc: number;
  directVms: number;
  /** Extra `redhat-sim` targets (`vpcN-rhM`). Default 0. */
  redhatSim?: number;
}

/**
 * Builds the lab (default 2 VPCs x 2 VMs, a RedHat-family simulation VM in vpc1, 1 direct VM) and
 * starts `outpost serve` with embedded Redis and InfluxDB; `serveEnv` adds to its environment. `onStop`
 * gets the stop function before anything starts, so a signal that arrives while the mission is still
 * starting can undo what was started.
 */
export async function startMission(options: {
  slot: number;
  narrator: Narrator;
  onStop?: (stop: StopMission) => void;
  shape?: LabShape;
  serveEnv?: Record<string, string>;
}): Promise<Mission> {
  const { narrator } = options;
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  let labUp: Promise<Lab> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // A lab still booting is not in the cleanups yet: let it finish booting, then remove everything the slot holds.
      await labUp?.catch(() => undefined);
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await down(options.slot).catch(() => undefined);
    })());
  options.onStop?.(stop);
  const work = await mkdtemp(path.join(os.tmpdir(), 'outpost-mission-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  try {
    // The "existing account" key of the key-enrollment step: authorized for root on the VMs, as a cloud image would be.
    await execa('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'operator-key',
      '-f',
      path.join(work, 'operator-key'),
    ]);
    const shape = options.shape ?? { vpcs: 2, vmsPerVpc: 2, directVms: 1, redhatSim: 1 };
    const redhatSim = shape.redhatSim ?? 0;
    narrator.step(
      `Build the lab: ${shape.vpcs} VPCs (a proxy and ${shape.vmsPerVpc} VMs each${redhatSim > 0 ? `, plus ${redhatSim} RedHat-family simulation VM` : ''}) and ${shape.directVms} directly reachable VM`,
    );
    labUp = up({ slot: options.slot, ...shape });
    const lab = await labUp;
    cleanups.push(() => lab.down());
    for (const vm of lab.vms) {
      const where = [
        vm.publicAddress && `public ${vm.publicAddress}`,
        vm.vpcAddress && `${vm.vpc} ${vm.vpcAddress}`,
      ];
      narrator.output(
        `${vm.name.padEnd(11)} ${vm.kind.padEnd(7)} ${vm.osFamily.padEnd(10)} ${where.filter(Boolean).join(', ')}`,
      );
    }

    narrator.step('Start Outpost: API, worker and tunnel keeper in one process, embedded Redis and InfluxDB');
    const packages = path.join(work, 'packages');
    const deb = await buildTelegrafDeb({ outDir: packages });
    if (redhatSim > 0) await buildSignedTelegrafRpm(packages, 'Outpost mission TEST KEY');
    const [httpPort, influxPort, rpcPort] = [
      await freePort(),
      await freePort(lab.controlAddress),
      await freePort(),
    ];
    const token = randomBytes(24).toString('base64url');
    const varDir = path.join(work, 'var');
    const serveEnv = {
      OUTPOST_VAR_DIR: varDir,
      OUTPOST_HTTP_PORT: String(httpPort),
      OUTPOST_API_TOKEN: token,
      // VMs with a direct uplink reach InfluxDB on the control plane's public address.
      OUTPOST_INFLUX_BIND: lab.controlAddress,
      OUTPOST_INFLUX_PORT: String(influxPort),
      OUTPOST_INFLUX_RPC_PORT: String(rpcPort),
      // Telegraf cannot be downloaded here: the offline method installs the labelled test stand-in package.
      OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
      OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
      // Within stop()'s 15 s before SIGKILL: a job still running at the end is re-queued, not orphaned.
      OUTPOST_SHUTDOWN_GRACE_SECONDS: '5',
      ...options.serveEnv,
    };
    narrator.command(
      `OUTPOST_INFLUX_BIND=${lab.controlAddress} OUTPOST_TELEGRAF_INSTALL_METHOD=offline OUTPOST_TELEGRAF_PACKAGE_DIR=… outpost serve`,
    );
    const serve = await startServe(serveEnv, path.join(work, 'serve.log'));
    cleanups.push(() => serve.stop());
    cleanups.push(() => rm(path.join(ROOT, 'inventories', PROJECT), { recursive: true, force: true }));
    const url = `http://127.0.0.1:${httpPort}`;
    narrator.output(`API ${url}, InfluxDB http://${lab.controlAddress}:${influxPort}`);

    const clientEnv = { OUTPOST_URL: url, OUTPOST_API_TOKEN: token, OUTPOST_VAR_DIR: varDir };
    return {
      lab,
      work,
      url,
      token,
      influxUrl: `http://${lab.controlAddress}:${influxPort}`,
      async outpost(args, runOptions = {}) {
        narrator.command(`outpost ${args.join(' ')}`);
        const result = await execa(process.execPath, [path.join(ROOT, 'bin/outpost.js'), ...args], {
          cwd: ROOT,
          env: { ...clientEnv, ...runOptions.env },
          input: runOptions.input ?? '',
          reject: false,
          all: true,
        });
        if (result.all) narrator.output(result.all);
        if (result.exitCode !== 0) {
          throw new Error(
            `\`outpost ${args.join(' ')}\` exited ${result.exitCode ?? `on ${result.signal ?? 'a signal'}`}; serve log: ${path.join(work, 'serve.log')}`,
          );
        }
        return result.stdout;
      },
      async api(method, route, body) {
        const response = await fetch(`${url}${route}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
        return (await response.json()) as never;
      },
      hostIds: () => [...lab.targets(), ...lab.directs()].map((vm) => vm.name),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The operator's steps, from an empty registry to every VM reporting. */
export async function runMissionSteps(mission: Mission, narrator: Narrator): Promise<void> {
  const { lab } = mission;
  const passwordFile = path.join(mission.work, 'debian.password');
  await writeFile(passwordFile, lab.password, { mode: 0o600 });

  narrator.step('Register the project, its proxies and its hosts');
  await mission.outpost(['project', 'add', PROJECT]);
  for (const proxy of lab.proxies()) {
    await mission.outpost([
      'proxy', 'add', proxy.name, '--project', PROJECT,
      '--public-address', proxy.publicAddress!, '--vpc-address', proxy.vpcAddress!, '--network', proxy.vpcCidr!,
    ]); // prettier-ignore
  }
  for (const vm of lab.targets()) {
    await mission.outpost([
      'host',
      'add',
      vm.name,
      '--project',
      PROJECT,
      '--address',
      vm.vpcAddress!,
      '--network',
      vm.vpcCidr!,
    ]);
  }
  for (const vm of lab.directs())
    await mission.outpost(['host', 'add', vm.name, '--project', PROJECT, '--address', vm.publicAddress!]);

  // The image user's password, given once per job from a 0600 file (never on the command line).
  const withPassword = [
    '--project',
    PROJECT,
    '--user',
    lab.user,
    '--password-file',
    passwordFile,
    '--follow',
  ];
  narrator.step('Enroll and prepare the proxies (password of the image user, given once)');
  await mission.outpost(['prepare-proxy', ...withPassword]);

  const [byPassword, byKey, byScript, ...rest] = mission.hostIds() as [string, string, string, ...string[]];
  narrator.step(`Enroll ${byPassword} with a password`);
  await mission.outpost(['enroll', byPassword, ...withPassword]);

  narrator.step(`Enroll ${byKey} with a private key for root`);
  const operatorKey = path.join(mission.work, 'operator-key');
  const publicKey = (await readFile(`${operatorKey}.pub`, 'utf8')).trim();
  await lab.sh(
    byKey,
    `install -d -m 700 /root/.ssh && printf '%s\\n' '${publicKey}' >> /root/.ssh/authorized_keys`,
  );
  await mission.outpost([
    'enroll',
    byKey,
    '--project',
    PROJECT,
    '--user',
    'root',
    '--key-file',
    operatorKey,
    '--follow',
  ]);

  narrator.step(`Enroll ${byScript} with the enrollment script, run on the VM by its owner, then probe it`);
  const script = await mission.outpost(['enroll-script', PROJECT]);
  narrator.command(`# on ${byScript}, as root: sh enroll.sh`);
  const ran = await lab.exec(byScript, 'sh -s', { input: script });
  narrator.output(ran.stdout.trim());
  if (ran.exitCode !== 0)
    throw new Error(`the enrollment script failed on ${byScript}: ${ran.stderr.trim()}`);
  await mission.outpost(['probe', byScript, '--project', PROJECT, '--enrolled-by', 'script', '--follow']);

  narrator.step(`Enroll the other hosts with the password: ${rest.join(', ')}`);
  await mission.outpost(['enroll', ...rest, ...withPassword]);

  narrator.step('Deploy the agent to every host; each is done only when its metrics are in InfluxDB');
  await mission.outpost(['deploy', ...mission.hostIds(), '--project', PROJECT, '--follow']);

  narrator.step('Every host, as the operator sees it');
  await mission.outpost(['host', 'list', '--project', PROJECT]);
}

/** The latest `agent_system` / `agent_mem` point of every host, read from InfluxDB. */
export async function latestMetrics(influxUrl: string): Promise<Record<string, Record<string, unknown>>> {
  // Raw newest points (ORDER BY time DESC LIMIT 1), so each row carries the point's own time.
  const q =
    'SELECT load1, n_cpus, uptime FROM agent_system GROUP BY host, project, network ORDER BY time DESC LIMIT 1; ' +
    'SELECT used_percent AS mem_used_percent FROM agent_mem GROUP BY host ORDER BY time DESC LIMIT 1';
  const response = await fetch(`${influxUrl}/query?${new URLSearchParams({ db: 'telegraf', q }).toString()}`);
  const body = (await response.json()) as {
    results: { series?: { tags: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  };
  const byHost: Record<string, Record<string, unknown>> = {};
  for (const result of body.results) {
    for (const series of result.series ?? []) {
      const host = series.tags.host ?? '?';
      const row = series.values[0] ?? [];
      byHost[host] = {
        ...byHost[host],
        ...series.tags,
        ...Object.fromEntries(series.columns.map((c, i) => [c, row[i]])),
      };
    }
  }
  return byHost;
}

interface Serve {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `outpost serve` in the background; resolves once its API answers. */
async function startServe(env: Record<string, string>, logFile: string): Promise<Serve> {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/outpost.js'), 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  closeSync(log);
  const stop = ownChild(child, { graceMs: 15_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`outpost serve exited with ${child.exitCode}; see ${logFile}`);
    const healthy = await fetch(`http://127.0.0.1:${env.OUTPOST_HTTP_PORT}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return { child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`outpost serve did not answer /healthz within 60 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
