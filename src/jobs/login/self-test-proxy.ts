import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proxy } from '../../domain/proxy.ts';
import { TunnelKeeper } from '../../tunnels/index.ts';
import { oneLine } from '../../ssh/classify-ssh-failure.ts';
import { runSsh } from '../../ssh/run-ssh.ts';

/** The outcome of a proxy's uplink self-test. */
export interface ProxySelfTest {
  ok: boolean;
  /** Where the remote forward listened on the proxy. */
  bindAddress?: string;
  port?: number;
  /** Round trip of the request, in ms. */
  ms?: number;
  detail?: string;
}

// Fetches argv[1] and prints the body; python3 where the proxy has it (Debian does), else curl.
const FETCH =
  "python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())'";

/**
 * Proves a proxy can carry an uplink: a remote forward bound on its VPC address (GatewayPorts
 * clientspecified) to a tiny HTTP listener on this machine, requested from the proxy itself; the
 * answer must be this test's random token.
 */
export async function selfTestProxy(
  proxy: Proxy,
  options: { privateKey: string; sshConfig: string; signal?: AbortSignal },
): Promise<ProxySelfTest> {
  const token = `outpost-self-test-${randomBytes(8).toString('hex')}`;
  const server = createServer((_req, res) => res.end(`${token}\n`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local = (server.address() as AddressInfo).port;
  const keeper = new TunnelKeeper({ privateKey: options.privateKey, healthCheckIntervalMs: 0 });
  try {
    const remote = await keeper
      .ensureRemoteForward(proxy, {
        bindAddress: proxy.vpcAddress,
        targetHost: '127.0.0.1',
        targetPort: local,
      })
      .catch((error: unknown) => {
        throw new Error(
          `no remote forward on ${proxy.vpcAddress}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    const host = remote.bindAddress.includes(':') ? `[${remote.bindAddress}]` : remote.bindAddress;
    const url = `http://${host}:${remote.port}/`;
    const started = Date.now();
    const ssh = await runSsh(
      options.sshConfig,
      `proxy.${proxy.id}`,
      `if command -v python3 >/dev/null; then ${FETCH} ${url}; else curl -fsS --max-time 10 ${url}; fi`,
      { ...(options.signal ? { signal: options.signal } : {}) },
    );
    const ms = Date.now() - started;
    const where = { bindAddress: remote.bindAddress, port: remote.port };
    if (ssh.exitCode === 0 && ssh.stdout.trim() === token) return { ok: true, ...where, ms };
    return {
      ok: false,
      ...where,
      detail: oneLine(
        `a request from the proxy to ${url} did not come back through the forward: ${ssh.stderr || ssh.stdout}`,
      ),
    };
  } catch (error) {
    return { ok: false, detail: oneLine(error instanceof Error ? error.message : String(error)) };
  } finally {
    await keeper.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
