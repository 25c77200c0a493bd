import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../../src/domain/host.ts';
import type { Proxy } from '../../../../src/domain/proxy.ts';
import { stopControlMasters } from '../../../../src/ssh/stop-control-masters.ts';
import { writeInventory } from '../../../../src/inventory/write-inventory.ts';
import { runSsh } from '../../../../src/ssh/run-ssh.ts';
import { KeyStore } from '../../../../src/secrets/key-store.ts';
import { generateKeypair } from '../../../../src/secrets/generate-keypair.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../../lab/lab.ts';
import { labEntities } from '../../../support/lab-entities.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';
import { api, startOutpost, TEST_TOKEN, waitForEnd, type OutpostProcess } from '../../http/start-outpost.ts';
import { createCloudroot } from '../../inventory/reach-lab.ts';

// One VPC (a proxy and one VM) and one direct VM, cloudroot made by hand with the project's keys and a
// key of the customer's own; a real `outpost serve` on a real Redis rotates the project key over HTTP.
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const PROJECT = 'rotating';
const MASTER_KEY = randomBytes(32);

let lab: Lab;
let redis: TestRedis;
let reader: Redis;
let keys: KeyStore;
let outpost: OutpostProcess;
let varDir: string;
let proxy: LabVm;
let customerKey: string;
let checkDir: string;

interface JobView {
  id: string;
  status: string;
  reason?: string;
  result?: Record<string, { keys: string; currentKeyWorks: boolean; detail: string; failed: number }>;
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-rotate-'));
  checkDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-rotate-check-'));
  const [labUp, redisUp] = await Promise.all([
    up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 1, directVms: 1 }),
    startRedis(),
  ]);
  lab = labUp;
  redis = redisUp;
  reader = new Redis(redis.url);
  keys = new KeyStore(reader, MASTER_KEY);
  proxy = lab.proxies()[0] as LabVm;
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'rotate',
    env: { OUTPOST_MASTER_KEY: MASTER_KEY.toString('hex') },
  });
  const created = await api<{ publicKeys: { admin: string; project: string } }>(
    outpost.url,
    'POST',
    '/v1/projects',
    { id: PROJECT },
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const { admin, project } = created.body.publicKeys;
  customerKey = generateKeypair('customer@laptop').publicKey;
  await Promise.all(lab.vms.map((vm) => createCloudroot(lab, vm, [admin, project, customerKey])));
  const { proxies, hosts } = labEntities(lab, PROJECT);
  for (const body of proxies) expect((await api(outpost.url, 'POST', '/v1/proxies', body)).status).toBe(201);
  for (const body of hosts) expect((await api(outpost.url, 'POST', '/v1/hosts', body)).status).toBe(201);
  // The hosts were set up like the enrollment script does: a probe records them as enrolled.
  const probe = await runJob({ kind: 'probe', project: PROJECT, options: { enrolledBy: 'script' } });
  expect(probe.status, JSON.stringify(probe)).toBe('successful');
}, 180_000);

afterAll(async () => {
  await outpost?.stop();
  reader?.disconnect();
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
  if (checkDir) await rm(checkDir, { recursive: true, force: true });
}, 120_000);

/** Submits a job (202 expected); resolves its id. */
async function submit(body: Record<string, unknown>): Promise<string> {
  const submitted = await api<{ id: string }>(outpost.url, 'POST', '/v1/jobs', body);
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  return submitted.body.id;
}

async function waitForJob(id: string): Promise<JobView> {
  return (await waitForEnd(outpost.url, id, 150_000)) as unknown as JobView;
}

async function runJob(body: Record<string, unknown>): Promise<JobView> {
  return waitForJob(await submit(body));
}

/** Logs in as cloudroot with `privateKey` to every VM (VPC VMs through the proxy, BatchMode, pinned host keys). */
async function loginsWith(privateKey: string, name: string): Promise<Record<string, number>> {
  const proxies = (await api<Proxy[]>(outpost.url, 'GET', `/v1/proxies?project=${PROJECT}`)).body;
  const hosts = (await api<Host[]>(outpost.url, 'GET', `/v1/hosts?project=${PROJECT}`)).body;
  const written = await writeInventory({
    dir: path.join(checkDir, name),
    project: PROJECT,
    hosts,
    proxies,
    keys: { project: privateKey },
  });
  try {
    const aliases = [...proxies.map((p) => `proxy.${p.id}`), ...hosts.map((h) => h.id)];
    const codes: Record<string, number> = {};
    for (const alias of aliases) codes[alias] = (await runSsh(written.sshConfig, alias, 'true')).exitCode;
    return codes;
  } finally {
    await stopControlMasters(
      written.sshConfig,
      proxies.map((p) => p.id),
    );
    await rm(written.keysDir, { recursive: true, force: true });
  }
}

const blob = (line: string): string => line.split(' ').slice(0, 2).join(' ');

async function authorizedKeys(vm: LabVm): Promise<string> {
  return lab.sh(vm, 'cat /home/cloudroot/.ssh/authorized_keys');
}

async function rotate(
  via: 'http' | 'cli',
): Promise<{ job: JobView; before: string; after: string; oldPrivate: string; stdout: string }> {
  const before = await keys.projectPublicKey(PROJECT);
  const oldPrivate = await keys.projectPrivateKey(PROJECT);
  let job: JobView;
  let stdout = '';
  if (via === 'http') job = await runJob({ kind: 'rotate-key', project: PROJECT });
  else {
    stdout = (
      await promisify(execFile)(
        process.execPath,
        [path.join(ROOT, 'bin/outpost.js'), 'project', 'rotate-key', PROJECT, '--follow'],
        { cwd: ROOT, env: { ...process.env, OUTPOST_URL: outpost.url, OUTPOST_API_TOKEN: TEST_TOKEN } },
      )
    ).stdout;
    const jobs = await api<JobView[]>(outpost.url, 'GET', '/v1/jobs?kind=rotate-key');
    const latest = jobs.body.find((candidate) => candidate.status !== 'queued');
    job = (await api<JobView>(outpost.url, 'GET', `/v1/jobs/${latest?.id ?? 'none'}`)).body;
  }
  const after = await keys.projectPublicKey(PROJECT);
  return { job, before, after, oldPrivate, stdout };
}

describe('rotate-key: a new project key on a proxy, a VM behind it and a direct VM', () => {
  it('rotates: the old key is refused, the new key logs in through the proxy, admin and customer keys stay', async () => {
    const { job, before, after, oldPrivate } = await rotate('http');
    expect(job.status, JSON.stringify(job)).toBe('successful');
    expect(after).not.toBe(before);
    for (const vm of lab.vms) {
      expect(job.result?.[vm.name], vm.name).toMatchObject({ keys: 'new', currentKeyWorks: false });
    }
    // The API shows the new public key.
    const shown = await api<{ publicKeys?: { project: string } }>(
      outpost.url,
      'GET',
      `/v1/projects/${PROJECT}`,
    );
    expect(blob(shown.body.publicKeys?.project ?? '')).toBe(blob(after));
    // So does the enrollment script a user runs on a new VM.
    const script = await api<string>(outpost.url, 'GET', `/v1/projects/${PROJECT}/enroll-script`);
    expect(String(script.body)).toContain(blob(after));
    expect(String(script.body)).not.toContain(blob(before));

    const withOld = await loginsWith(oldPrivate, 'old');
    const withNew = await loginsWith(await keys.projectPrivateKey(PROJECT), 'new');
    const withAdmin = await loginsWith(await keys.adminPrivateKey(), 'admin');
    for (const alias of [
      `proxy.${proxy.name}`,
      ...lab.targets().map((v) => v.name),
      ...lab.directs().map((v) => v.name),
    ]) {
      expect(withOld[alias], `old key on ${alias}`).toBe(255);
      expect(withNew[alias], `new key on ${alias}`).toBe(0);
      expect(withAdmin[alias], `admin key on ${alias}`).toBe(0);
    }
    for (const vm of lab.vms) {
      const lines = await authorizedKeys(vm);
      expect(lines, vm.name).not.toContain(blob(before));
      expect(lines, vm.name).toContain(blob(after));
      expect(lines, vm.name).toContain(blob(customerKey));
    }
    // Nothing of the run's keys stays on disk.
    const runDir = path.join(varDir, 'runs', job.id);
    const files = await listFiles(runDir);
    for (const file of files) {
      expect(await readFile(file, 'utf8'), file).not.toContain('PRIVATE KEY');
    }
  }, 200_000);

  it('a run-playbook job afterwards reaches every host with the new key', async () => {
    const job = await runJob({
      kind: 'run-playbook',
      project: PROJECT,
      playbook: 'test/fixtures/playbooks/ping.yml',
    });
    expect(job.status, JSON.stringify(job)).toBe('successful');
    for (const vm of [...lab.targets(), ...lab.directs()])
      expect(job.result?.[vm.name]?.failed, vm.name).toBe(0);
  }, 120_000);

  it('rotates a second time with `outpost project rotate-key --follow`; no private key in log or record', async () => {
    const { job, before, after, oldPrivate, stdout } = await rotate('cli');
    for (const vm of lab.vms) expect(stdout).toMatch(new RegExp(`${vm.name} +rotated`));
    expect(job.status, JSON.stringify(job)).toBe('successful');
    expect(after).not.toBe(before);
    const withOld = await loginsWith(oldPrivate, 'old2');
    const withNew = await loginsWith(await keys.projectPrivateKey(PROJECT), 'new2');
    for (const [alias, code] of Object.entries(withOld)) expect(code, `old key on ${alias}`).toBe(255);
    for (const [alias, code] of Object.entries(withNew)) expect(code, `new key on ${alias}`).toBe(0);
    for (const vm of lab.vms) expect(await authorizedKeys(vm), vm.name).toContain(blob(customerKey));
    const log = await api<string>(outpost.url, 'GET', `/v1/jobs/${job.id}/log`);
    const record = await api(outpost.url, 'GET', `/v1/jobs/${job.id}`);
    for (const text of [String(log.body), JSON.stringify(record.body)]) {
      expect(text).not.toContain('PRIVATE KEY');
    }
    expect(String(log.body)).toContain('step 4/4');
    expect(JSON.stringify(record.body)).toContain('rotated: the new key logs in');
  }, 200_000);

  it('a failure before the promotion leaves the current key working everywhere; abandon, then retry', async () => {
    const direct = lab.directs()[0] as LabVm;
    const before = await keys.projectPublicKey(PROJECT);
    // cloudroot loses its sudo on the direct VM: the play fails there.
    await lab.sh(direct, 'mkdir -p /root/sudoers.off && mv /etc/sudoers.d/* /root/sudoers.off/');
    const failed = await runJob({ kind: 'rotate-key', project: PROJECT });
    expect(failed.status, JSON.stringify(failed)).toBe('failed');
    expect(failed.reason).toContain('the current project key still logs in on every target');
    for (const vm of lab.vms) expect(failed.result?.[vm.name]?.currentKeyWorks, vm.name).toBe(true);
    expect(failed.result?.[direct.name]?.detail).toContain('next key not authorized');
    expect(await keys.projectPublicKey(PROJECT)).toBe(before);
    const pending = (await keys.beginRotation(PROJECT)).next;
    expect(await authorizedKeys(proxy)).toContain(blob(pending));
    for (const [alias, code] of Object.entries(
      await loginsWith(await keys.projectPrivateKey(PROJECT), 'kept'),
    ))
      expect(code, `current key on ${alias}`).toBe(0);

    await lab.sh(direct, 'mv /root/sudoers.off/* /etc/sudoers.d/');
    const abandoned = await runJob({ kind: 'rotate-key', project: PROJECT, options: { abandon: true } });
    expect(abandoned.status, JSON.stringify(abandoned)).toBe('successful');
    for (const vm of lab.vms) {
      const lines = await authorizedKeys(vm);
      expect(lines, vm.name).not.toContain(blob(pending));
      expect(lines, vm.name).toContain(blob(before));
      expect(lines, vm.name).toContain(blob(customerKey));
    }
    const retried = await runJob({ kind: 'rotate-key', project: PROJECT });
    expect(retried.status, JSON.stringify(retried)).toBe('successful');
    const after = await keys.projectPublicKey(PROJECT);
    expect(blob(after)).not.toBe(blob(pending));
    for (const [alias, code] of Object.entries(
      await loginsWith(await keys.projectPrivateKey(PROJECT), 'retried'),
    ))
      expect(code, `new key on ${alias}`).toBe(0);
  }, 240_000);

  it('runs one rotation of a project at a time: of two submitted together, one rotates, the other names it', async () => {
    const before = await keys.projectPublicKey(PROJECT);
    const ids = await Promise.all([1, 2].map(() => submit({ kind: 'rotate-key', project: PROJECT })));
    const jobs = await Promise.all(ids.map(waitForJob));
    const rotated = jobs.find((job) => job.status === 'successful');
    const refused = jobs.find((job) => job.status === 'failed');
    expect(rotated, JSON.stringify(jobs)).toBeDefined();
    expect(refused, JSON.stringify(jobs)).toBeDefined();
    expect(refused?.reason).toContain(`is being rotated by job "${rotated?.id ?? ''}"`);
    expect(blob(await keys.projectPublicKey(PROJECT))).not.toBe(blob(before));
    for (const [alias, code] of Object.entries(
      await loginsWith(await keys.projectPrivateKey(PROJECT), 'once'),
    ))
      expect(code, `new key on ${alias}`).toBe(0);
    // The lease went with the job: the next rotation runs.
    expect((await runJob({ kind: 'rotate-key', project: PROJECT })).status).toBe('successful');
  }, 240_000);

  it('refuses a rotate-key job without a project, or with hosts', async () => {
    const missing = await api(outpost.url, 'POST', '/v1/jobs', { kind: 'rotate-key', hosts: ['direct1'] });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('project');
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
