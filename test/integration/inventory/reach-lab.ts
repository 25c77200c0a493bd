import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { execa } from 'execa';
import ssh2 from 'ssh2';
import type { Lab, LabVm } from '../../lab/lab.ts';
import type { Registry } from '../../../src/registry/registry.ts';
import { labEntities } from '../../support/lab-entities.ts';

export const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

/** Creates cloudroot on a lab VM by hand (key-only, passwordless sudo), as the enroll playbook will. */
export async function createCloudroot(lab: Lab, vm: LabVm, publicKeys: string[]): Promise<void> {
  // The keys are validated public key lines: no quote can appear in them.
  const lines = publicKeys.map((key) => `'${key}'`).join(' ');
  await lab.sh(
    vm,
    [
      'id cloudroot >/dev/null 2>&1 || useradd -m -s /bin/sh cloudroot',
      "usermod -p '*' cloudroot",
      'install -d -m 700 -o cloudroot -g cloudroot /home/cloudroot/.ssh',
      `printf '%s\\n' ${lines} > /home/cloudroot/.ssh/authorized_keys`,
      'chown cloudroot:cloudroot /home/cloudroot/.ssh/authorized_keys && chmod 600 /home/cloudroot/.ssh/authorized_keys',
      "echo 'cloudroot ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/cloudroot && chmod 440 /etc/sudoers.d/cloudroot",
      'visudo -c >/dev/null',
    ].join(' && '),
  );
}

/** Registers the lab's proxies (one per VPC) and VMs (targets by VPC network, directs by public address). */
export async function registerLab(registry: Registry, lab: Lab, project: string): Promise<void> {
  // No host key pinned: these tests record them at first contact.
  const { proxies, hosts } = labEntities(lab, project, { pinHostKeys: false });
  for (const body of proxies) await registry.createProxy(body);
  for (const body of hosts) await registry.createHost(body);
}

/** Per host of a PLAY RECAP: its counters. */
export function parseRecap(stdout: string): Record<string, Record<string, number>> {
  const recap: Record<string, Record<string, number>> = {};
  const section = stdout.slice(stdout.lastIndexOf('PLAY RECAP'));
  for (const line of section.split('\n').slice(1)) {
    const match = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    recap[match[1]] = Object.fromEntries(
      [...match[2].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]),
    );
  }
  return recap;
}

/** Plain `ansible-playbook` from the repository root, nothing of Outpost running. */
export async function runAnsible(
  inventory: string,
  playbook: string,
  controlDir: string,
  extra: string[] = [],
) {
  return execa('ansible-playbook', ['-i', inventory, playbook, ...extra], {
    cwd: ROOT,
    reject: false,
    all: true,
    // A private control dir per run: a reused master connection would skip the host key check.
    env: { ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    timeout: 240_000,
  });
}

/** Pids of processes (ssh control masters) whose command line mentions `dir`: ones this test started. */
export async function processesMentioning(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** Ends the ssh control masters this test started (found by its temp dir), by pid. */
export async function killProcessesMentioning(dir: string): Promise<void> {
  for (const pid of await processesMentioning(dir)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

/**
 * A local forward like the tunnel keeper's: a listener on 127.0.0.1 whose connections are carried
 * to `target` over one ssh2 connection to the proxy. Resolves its port and a close function.
 */
export async function startLocalForward(
  proxy: { host: string; port: number; username: string; privateKey: string },
  target: { host: string; port: number },
): Promise<{ port: number; close(): Promise<void> }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    // The lab test pins the proxy through the inventory; this helper only carries bytes.
    client.connect({ ...proxy, hostVerifier: () => true });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    client.forwardOut('127.0.0.1', socket.remotePort ?? 0, target.host, target.port, (error, channel) => {
      if (error) return socket.destroy();
      socket.pipe(channel).pipe(socket);
      channel.once('close', () => socket.destroy());
      socket.once('close', () => channel.close());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.end();
    },
  };
}
