/**
 * Restarts of `outpost serve` during a real deploy on the lab, with its embedded redis-server and
 * influxd: a SIGTERM past the grace period re-queues the deploy and the next serve finishes it; a
 * kill -9 leaves the servers and the play running, and the next serve adopts the servers, stops the
 * play at once, and stops the servers when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryPaths } from '../../../src/inventory/inventory-paths.ts';
import {
  isRunning,
  parseProcessIdentity,
  stopProcess,
  type ProcessIdentity,
} from '../../../src/process-identity.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../lab/lab.ts';
import { freePort } from '../../support/free-port.ts';
import { labEntities } from '../../support/lab-entities.ts';
import { buildTelegrafDeb } from '../../support/telegraf-deb.ts';
import { api, processesMentioning, readSse, TEST_TOKEN, waitForEnd } from '../http/start-outpost.ts';
import { createCloudroot } from '../inventory/reach-lab.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PROJECT = 'restarts';

let lab: Lab;
let vm: LabVm;
let varDir: string;
let env: Record<string, string>;
let url: string;
const serves: Serve[] = [];

interface Serve {
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-restarts-'));
  const [labUp, deb] = await Promise.all([
    up({ slot: defaultSlot(), vpcs: 0, vmsPerVpc: 0, directVms: 1 }),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  vm = lab.directs()[0] as LabVm;
  const httpPort = await freePort();
  url = `http://127.0.0.1:${httpPort}`;
  // Embedded redis-server and influxd (no OUTPOST_REDIS_URL or OUTPOST_INFLUX_URL); the VM reaches
  // influxd on the lab's control address. Heartbeats outlive every wait here: a dead serve is known
  // by its process, never by its silence.
  env = {
    OUTPOST_VAR_DIR: varDir,
    OUTPOST_HTTP_PORT: String(httpPort),
    OUTPOST_API_TOKEN: TEST_TOKEN,
    OUTPOST_REDIS_URL: '',
    OUTPOST_INFLUX_URL: '',
    OUTPOST_INFLUX_BIND: lab.controlAddress,
    OUTPOST_INFLUX_PORT: String(await freePort(lab.controlAddress)),
    OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
    OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
    OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
    OUTPOST_WORKER_HEARTBEAT_MS: '300000',
    OUTPOST_KILL_GRACE_MS: '2000',
    OUTPOST_LOG_LEVEL: 'info',
  };
  // 1 s of grace: a SIGTERM mid-play ends the grace before the play does.
  await startServe('short-grace', { OUTPOST_SHUTDOWN_GRACE_SECONDS: '1' });
  const created = await api<{ publicKeys: { admin: string; project: string } }>(url, 'POST', '/v1/projects', {
    id: PROJECT,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await createCloudroot(lab, vm, [created.body.publicKeys.admin, created.body.publicKeys.project]);
  for (const body of labEntities(lab, PROJECT).hosts) {
    const added = await api(url, 'POST', '/v1/hosts', body);
    expect(added.status, JSON.stringify(added.body)).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  for (const serve of serves) {
    if (serve.child.exitCode !== null || serve.child.signalCode !== null) continue;
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  // Whatever a failed test left: the servers by their pid files (as serve itself would find them).
  for (const server of [
    await recordedServer('redis/redis-server.pid'),
    await recordedServer('influxdb/influxd.pid'),
  ])
    if (server) await stopProcess(server, 5000);
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

/** `outpost serve` with every role; resolves once its worker has started. */
async function startServe(name: string, extra: Record<string, string>): Promise<Serve> {
  const logFile = path.join(varDir, `${name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/outpost.js'), 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env, ...extra },
  });
  closeSync(log);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const serve = { child, logFile, exited };
  serves.push(serve);
  const deadline = Date.now() + 90_000;
  while (!(await readFile(logFile, 'utf8')).includes('"worker started"')) {
    if (child.exitCode !== null) throw new Error(`serve ${name} exited early; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`serve ${name} not ready in 90 s; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return serve;
}

async function stopServe(serve: Serve, signal: NodeJS.Signals): Promise<number | null> {
  serve.child.kill(signal);
  return serve.exited;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Submits a deploy and resolves once its play is configuring the VM (mid-deploy). */
async function deployUntilMidPlay(): Promise<string> {
  const { status, body } = await api(url, 'POST', '/v1/jobs', { kind: 'deploy-agent', project: PROJECT });
  expect(status, JSON.stringify(body)).toBe(202);
  const id = String(body.id);
  await until(
    `deploy ${id} reaches the Telegraf role`,
    async () => {
      const log = await api<string>(url, 'GET', `/v1/jobs/${id}/log`);
      return String(log.body).includes('TASK [telegraf') && (await playOf(id)).length > 0;
    },
    240_000,
  );
  return id;
}

/** Pids of the ansible-playbook (and its ssh) still running for job `id`. */
function playOf(id: string): Promise<number[]> {
  return processesMentioning(id);
}

async function recordedServer(file: string): Promise<ProcessIdentity | undefined> {
  const text = await readFile(path.join(varDir, file), 'utf8').catch(() => undefined);
  return text === undefined
    ? undefined
    : parseProcessIdentity((JSON.parse(text) as { server: unknown }).server);
}

/** The fields of the one log line whose message is `msg`. */
async function logLine(serve: Serve, msg: string): Promise<Record<string, unknown>> {
  const lines = (await readFile(serve.logFile, 'utf8')).split('\n').filter((line) => line.startsWith('{'));
  const found = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.msg === msg);
  if (!found) throw new Error(`no "${msg}" in ${serve.logFile}`);
  return found;
}

describe('restarts of outpost serve during a deploy', () => {
  it('SIGTERM past the grace period: the deploy is re-queued, not failed, and the next serve finishes it', async () => {
    const short = serves[0] as Serve;
    const id = await deployUntilMidPlay();

    expect(await stopServe(short, 'SIGTERM')).toBe(0);
    expect(await playOf(id)).toEqual([]);
    expect(await readFile(short.logFile, 'utf8')).toContain('"msg":"job re-queued"');
    // A clean exit stops the embedded servers it started.
    expect(await recordedServer('redis/redis-server.pid')).toBeUndefined();
    expect(await recordedServer('influxdb/influxd.pid')).toBeUndefined();

    await startServe('next', {});
    const job = await waitForEnd(url, id, 400_000);
    expect(job.status, String(job.reason)).toBe('successful');
    expect(job.requeues).toBe(1);
    const statuses = (await readSse(url, id))
      .filter((entry) => entry.type === 'status')
      .map((entry) => JSON.parse(entry.data) as { status: string; reason?: string });
    expect(statuses.map((s) => s.status)).toEqual(['queued', 'running', 'queued', 'running', 'successful']);
    expect(statuses[2]?.reason).toMatch(/shut down while the job was running; re-queued/);
    const { body: host } = await api<{ agent: { state: string } }>(url, 'GET', `/v1/hosts/${vm.name}`);
    expect(host.agent.state).toBe('reporting');
  });

  it('kill -9 mid-deploy: the next serve adopts redis-server and influxd, stops the orphaned play at once, and stops both at its clean exit', async () => {
    const doomed = serves.at(-1) as Serve;
    const id = await deployUntilMidPlay();
    const redis = await recordedServer('redis/redis-server.pid');
    const influxd = await recordedServer('influxdb/influxd.pid');
    expect(redis?.exe).toMatch(/redis/);
    expect(influxd?.exe).toMatch(/influxd$/);

    await stopServe(doomed, 'SIGKILL');
    // What the crash leaves: both servers and the play keep running without their serve.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await isRunning(redis as ProcessIdentity)).toBe(true);
    expect(await isRunning(influxd as ProcessIdentity)).toBe(true);
    expect((await playOf(id)).length).toBeGreaterThan(0);

    const heir = await startServe('heir', {});
    expect(await logLine(heir, 'embedded redis-server')).toMatchObject({
      origin: 'adopted',
      pid: redis?.pid,
    });
    expect(await logLine(heir, 'embedded influxd')).toMatchObject({ origin: 'adopted', pid: influxd?.pid });
    // The heir's worker knows the dead serve by its process at start: the play ends at once.
    await until('the orphaned play is stopped', async () => (await playOf(id)).length === 0, 15_000);
    const job = await waitForEnd(url, id, 15_000);
    expect(job.status).toBe('failed');
    expect(String(job.reason)).toMatch(/^worker w-[a-z0-9-]+ on .+ stopped while the job was running$/);
    // The dead run's keys do not outlive it; its record (the command) does.
    const runDir = path.join(varDir, 'runs', id);
    expect(existsSync(path.join(runDir, 'command.json'))).toBe(true);
    expect(existsSync(path.join(runDir, 'keys'))).toBe(false);
    expect(existsSync(path.join(runDir, 'secret-vars.json'))).toBe(false);
    // Nor its ssh control-socket dir, which a run dir this long keeps under /tmp.
    const { controlDir } = inventoryPaths(runDir);
    expect(controlDir.startsWith(runDir)).toBe(false);
    expect(existsSync(controlDir)).toBe(false);

    expect(await stopServe(heir, 'SIGTERM')).toBe(0);
    expect(await isRunning(redis as ProcessIdentity)).toBe(false);
    expect(await isRunning(influxd as ProcessIdentity)).toBe(false);
    expect(await recordedServer('redis/redis-server.pid')).toBeUndefined();
    expect(await recordedServer('influxdb/influxd.pid')).toBeUndefined();
    expect(await processesMentioning(varDir)).toEqual([]);
  });
});
