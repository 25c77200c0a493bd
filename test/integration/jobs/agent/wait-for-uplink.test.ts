/**
 * What a deploy says when a proxy's uplink does not come up (issue 15 #22): the real cause and the
 * command that fixes it, read from the proxy record and the tunnel status in a real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../../src/domain/proxy.ts';
import { uplinkForwardOf } from '../../../../src/jobs/agent/uplink-forward.ts';
import { waitForUplink } from '../../../../src/jobs/agent/wait-for-uplink.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const proxy: Proxy = {
  id: 'vpc-a',
  project: 'shop',
  publicAddress: '203.0.113.10',
  sshPort: 22,
  vpcAddress: '198.51.100.1',
  networks: ['198.51.100.0/26'],
  user: 'cloudroot',
};
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9zZjQ0dGVzdGtleW5vdGFyZWFsa2V5YWF5YWJjZGVmZ2hp';
const wait = (target: Proxy, timeoutMs: number) =>
  waitForUplink(redis, 'outpost:', target, uplinkForwardOf(target, 'http://127.0.0.1:8086', 18086), {
    timeoutMs,
    intervalMs: 50,
  });

describe('waitForUplink', () => {
  it('says at once that a proxy with no pinned host key was never prepared, and how to prepare it', async () => {
    const started = Date.now();
    const verdict = await wait(proxy, 5000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(verdict).toEqual({
      up: false,
      reason:
        'proxy vpc-a was never prepared: it has no pinned host key, so no tunnel node connects to it; prepare it with `outpost prepare-proxy vpc-a --project shop --user USER --password-file FILE` (or --key-file)',
    });
  });

  it('adds to what it saw that a proxy without a passing self-test was never prepared', async () => {
    const verdict = await wait({ ...proxy, hostKey: KEY }, 300);
    expect(verdict.up).toBe(false);
    const reason = verdict.up ? '' : verdict.reason;
    expect(reason).toContain('no tunnel node holds the proxy');
    expect(reason).toMatch(
      /; proxy vpc-a was never prepared \(no passing self-test\): prepare it with `outpost prepare-proxy vpc-a --project shop`$/,
    );
  });

  it('says only what it saw for a prepared proxy', async () => {
    const prepared = { ...proxy, hostKey: KEY, selfTest: { at: new Date().toISOString(), ok: true } };
    const verdict = await wait(prepared, 300);
    expect(verdict.up ? '' : verdict.reason).toMatch(
      /no tunnel node holds the proxy \(is a node with the tunnels role running\?\)$/,
    );
  });
});
