import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Lab, LabVm } from '../../lab/lab.ts';
import type { TunnelProxy } from '../../../src/tunnels/tunnel-types.ts';

const run = promisify(execFile);

/** A fresh ed25519 keypair made at test time (never committed). */
export async function makeKeypair(
  dir: string,
): Promise<{ keyFile: string; privateKey: Buffer; publicKey: string }> {
  const keyFile = path.join(dir, 'cloudroot_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outpost-tunnel-test', '-f', keyFile]);
  return {
    keyFile,
    privateKey: await readFile(keyFile),
    publicKey: (await readFile(`${keyFile}.pub`, 'utf8')).trim(),
  };
}

/** Creates a key-only `cloudroot` user on a VM, as enrollment would. */
export async function addCloudroot(lab: Lab, vm: LabVm, publicKey: string): Promise<void> {
  await lab.sh(
    vm,
    `id cloudroot >/dev/null 2>&1 || useradd -m -s /bin/sh cloudroot
usermod -p '*' cloudroot
install -d -m 700 -o cloudroot -g cloudroot /home/cloudroot/.ssh
cat > /home/cloudroot/.ssh/authorized_keys && chown cloudroot: /home/cloudroot/.ssh/authorized_keys && chmod 600 /home/cloudroot/.ssh/authorized_keys`,
    { input: `${publicKey}\n` },
  );
}

/**
 * What the prepare-proxy role does in production: remote forwards may bind the VPC address, and sshd
 * drops a session whose client vanished (so a dead keeper's listeners are freed for its successor).
 */
export async function prepareProxySshd(lab: Lab, proxy: LabVm): Promise<void> {
  await lab.sh(
    proxy,
    `printf 'GatewayPorts clientspecified\\nClientAliveInterval 5\\nClientAliveCountMax 3\\n' > /etc/ssh/sshd_config.d/10-outpost-proxy.conf
sshd -t && kill -HUP "$(cat /run/sshd.pid)"`,
  );
}

/** The lab proxy VM as the registry would describe it. */
export function tunnelProxyOf(vm: LabVm, hostKey = vm.hostKey): TunnelProxy {
  return {
    id: vm.name,
    publicAddress: vm.publicAddress as string,
    sshPort: 22,
    vpcAddress: vm.vpcAddress as string,
    user: 'cloudroot',
    hostKey,
  };
}

/** Pids of every sshd (listener and sessions) inside a VM, read from the VM's own /proc. */
export async function sshdPids(lab: Lab, vm: LabVm): Promise<string[]> {
  const out = await lab.sh(
    vm,
    `for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = sshd ] && echo "\${p#/proc/}"; done; true`,
  );
  return out.split('\n').filter((line) => /^\d+$/.test(line));
}

/**
 * Stops every sshd of a VM, the listener and its sessions, as a crash would. Sessions end with their
 * listener, so some may be gone before the signal reaches them: that is fine; none may be left.
 */
export async function stopSshd(lab: Lab, vm: LabVm): Promise<void> {
  await lab.exec(vm, `kill ${(await sshdPids(lab, vm)).join(' ')}`);
  // A signalled process takes a moment to exit on a loaded machine: look again for up to 10 s.
  let left = await sshdPids(lab, vm);
  for (let tries = 0; left.length > 0 && tries < 100; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await sshdPids(lab, vm);
  }
  if (left.length > 0) throw new Error(`sshd still running in ${vm.name}: ${left.join(' ')}`);
}

/** Reads the first line a TCP service sends (an SSH banner), or throws after `timeoutMs`. */
export function readBanner(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no banner from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('data', (data: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString('latin1').split('\r\n')[0] ?? '');
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed by ${host}:${port} without a banner`));
    });
  });
}

/** From inside a VM, GETs a URL and returns the HTTP status (or the error text). */
export async function httpStatusFromVm(lab: Lab, vm: LabVm, url: string, timeoutS = 2): Promise<string> {
  const script = `import urllib.request,sys
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=${timeoutS}).status)
except Exception as e:
    print('error', e)`;
  const result = await lab.exec(vm, `python3 - '${url}'`, { input: script });
  return result.stdout.trim();
}

/** TCP sockets (listening and connected) this process holds, from `ss`. */
export async function countOwnSockets(): Promise<string[]> {
  const { stdout } = await run('ss', ['-tanpH']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${process.pid},`))
    .map((line) => line.replace(/\s+users:.*$/, '').replace(/\s+/g, ' '));
}

/** Polls `probe` until it returns true; resolves with the milliseconds it took, or throws after `timeoutMs`. */
export async function timeUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
