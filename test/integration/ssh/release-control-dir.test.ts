import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { releaseControlSockets } from '../../../src/ssh/release-control-dir.ts';
import { defaultSlot, up, type Lab } from '../../lab/lab.ts';

let lab: Lab;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'outpost-cp-test-'));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(work, 'id')]);
  const key = (await readFile(path.join(work, 'id.pub'), 'utf8')).trim();
  lab = await up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 0, authorizedKeys: [key] });
});
afterAll(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

async function masterPids(controlDir: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  // A master's title holds its ControlPath: `ssh ... ControlPath=<dir>/%C` or `ssh: <dir>/<hash> [mux]`.
  return stdout.split('\n').filter((line) => line.includes(controlDir) && !line.includes(' ps '));
}

it('stops the ssh ControlMaster of every socket in the dir, then removes the dir', async () => {
  const proxy = lab.proxies()[0]!;
  const controlDir = path.join(work, 'cp');
  await mkdir(controlDir, { mode: 0o700 });
  // A persistent master, as ansible's jump through the proxy leaves one.
  await execa('ssh', [
    '-i', path.join(work, 'id'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'ControlMaster=yes', '-o', `ControlPath=${controlDir}/%C`, '-o', 'ControlPersist=300', '-fN',
    `${lab.user}@${proxy.publicAddress}`,
  ]); // prettier-ignore
  expect(await readdir(controlDir)).toHaveLength(1);
  expect(await masterPids(controlDir)).toHaveLength(1);

  await releaseControlSockets(controlDir);

  expect(await masterPids(controlDir)).toEqual([]);
  await expect(stat(controlDir)).rejects.toThrow(/ENOENT/);
});
