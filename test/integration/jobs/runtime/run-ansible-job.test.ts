import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../../src/ansible/run-playbook.ts';
import { runAnsibleJob } from '../../../../src/jobs/runtime/run-ansible-job.ts';
import type { LogWriter } from '../../../../src/logs/log-writer.ts';
import { freePort } from '../../../support/free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');

describe('runAnsibleJob with real ansible-playbook', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-run-job-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('leaves no abort listener on the job signal after retrying an unreachable host', async () => {
    // A closed loopback port: ssh is refused at once, so the host is unreachable on every attempt.
    const port = await freePort();
    const controller = new AbortController();
    const lines: string[] = [];
    const log: LogWriter = { write: (_type, data) => void lines.push(data), flush: () => Promise.resolve() };
    const outcome = await runAnsibleJob(
      {
        rootDir: ROOT,
        runsDir: path.join(tmp, 'runs'),
        runPlaybook,
        prepareInventory: async (dir) => {
          const inventory = path.join(dir, 'hosts.yml');
          await writeFile(
            inventory,
            `all:\n  hosts:\n    gone:\n      ansible_host: 127.0.0.1\n      ansible_port: ${port}\n` +
              `      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n`,
          );
          return { inventory, secretFiles: [] };
        },
      },
      {
        job: {
          id: 'job-listeners',
          kind: 'run-playbook',
          status: 'running',
          createdAt: new Date().toISOString(),
          playbook: 'test/fixtures/playbooks/ping.yml',
          options: { retryUnreachable: 2, retryDelaySeconds: 0 },
        },
        signal: controller.signal,
        log,
        record: () => Promise.resolve(),
      },
      { playbook: path.join(ROOT, 'test/fixtures/playbooks/ping.yml') },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.result?.gone?.unreachable).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes('retrying unreachable hosts'))).toHaveLength(2);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
