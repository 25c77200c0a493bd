import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../../src/secrets/generate-keypair.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, startOutpost, waitForStatus, type OutpostProcess } from '../http/start-outpost.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-secrets-'));
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'secrets' });
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

/** Runs scripts/scan-secrets over `dirs` looking for `secrets`; its exit code and output. */
async function scan(dirs: string[], secrets: string[]): Promise<{ code: number; output: string }> {
  const evidence = await mkdtemp(path.join(os.tmpdir(), 'outpost-scan-evidence-'));
  await writeFile(path.join(evidence, 'secrets.list'), `${secrets.join('\n')}\n`, { mode: 0o600 });
  try {
    const { stdout, stderr } = await run(path.join(ROOT, 'scripts/scan-secrets'), dirs, {
      env: { ...process.env, OUTPOST_TEST_EVIDENCE: evidence },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  } finally {
    await rm(evidence, { recursive: true, force: true });
  }
}

describe('drill: secrets at rest after jobs with credentials', () => {
  it('leaves no password or private key in the Redis AOF and dump, the logs or the run dirs', async () => {
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const { privateKey } = generateKeypair('drill');
    const keyBody = privateKey.split('\n')[2] as string; // a line of raw key material, not the header
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { status, body } = await api(outpost.url, 'POST', '/v1/jobs', {
        kind: 'run-playbook',
        hosts: ['localhost'],
        playbook: 'test/fixtures/playbooks/ping.yml',
        credentials: { user: 'debian', password, privateKey },
      });
      expect(status).toBe(202);
      expect(JSON.stringify(body)).not.toContain(password);
      ids.push(String(body.id));
    }
    for (const id of ids) {
      const job = await waitForStatus(outpost.url, id, ['successful', 'failed']);
      expect(job.status).toBe('successful');
      expect(job.hasCredentials).toBe(true);
    }
    // End with a dump and a rewritten AOF: what a backup of this Redis would hold.
    const admin = new Redis(redis.url);
    await admin.save();
    await admin.bgrewriteaof();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    admin.disconnect();

    const clean = await scan([redis.dir, varDir], [password, keyBody]);
    expect(clean.output).toMatch(/scan-secrets: \d+ files in 2 places, 2 listed secrets: clean/);
    expect(clean.code).toBe(0);

    // The scan itself finds a leak, names the file and line, and never prints the secret.
    const planted = path.join(varDir, 'planted', 'job.log');
    await mkdir(path.dirname(planted), { recursive: true });
    await writeFile(planted, `line one\nuser debian password ${password}\n${privateKey}`);
    const dirty = await scan([varDir], [password, keyBody]);
    expect(dirty.code).toBe(1);
    expect(dirty.output).toContain(`${planted}:2: test secret #1 of the list`);
    expect(dirty.output).toContain(`${planted}:3: a PEM private key`);
    expect(dirty.output).not.toContain(password);
    expect(dirty.output).not.toContain(keyBody);
    await rm(path.dirname(planted), { recursive: true });
    expect(await readFile(outpost.logFile, 'utf8')).not.toContain(password);
  });
});
