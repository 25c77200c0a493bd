/**
 * `npm run lab -- standin DIR --rpm`: what someone trying the lab by hand puts in
 * OUTPOST_TELEGRAF_PACKAGE_DIR for a fleet with redhat-sim VMs: the labelled stand-in as .deb and as
 * a signed .rpm, with the key that verifies it under the name role telegraf trusts.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/telegraf-standin-tree.ts';

let dir: string;
let printed: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(repoRoot, 'var', 'standin-cli-'));
  const run = await execa(
    path.join(repoRoot, 'node_modules/.bin/tsx'),
    ['test/lab/cli.ts', 'standin', dir, '--rpm'],
    {
      cwd: repoRoot,
    },
  );
  printed = run.stdout;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lab standin --rpm', () => {
  it('writes the .deb, the .rpm and the public key that verifies the .rpm, and prints the packages', async () => {
    expect((await readdir(dir)).sort()).toEqual([
      'influxdata-archive.key',
      'telegraf-1.30.0-1.noarch.rpm',
      'telegraf_1.30.0_all.deb',
    ]);
    expect(printed.split('\n')).toEqual([
      path.join(dir, 'telegraf_1.30.0_all.deb'),
      path.join(dir, 'telegraf-1.30.0-1.noarch.rpm'),
    ]);
    const key = await readFile(path.join(dir, 'influxdata-archive.key'), 'utf8');
    expect(key).toContain('-----BEGIN PGP PUBLIC KEY BLOCK-----');
    expect(key).not.toContain('PRIVATE');

    // The .rpm says it is not Telegraf, and its signature checks out against that key only.
    const rpm = path.join(dir, 'telegraf-1.30.0-1.noarch.rpm');
    const db = ['--dbpath', path.join(dir, 'rpmdb')];
    expect((await execa('rpm', ['-qp', '--qf', '%{SUMMARY}', rpm])).stdout).toMatch(/NOT Telegraf/i);
    const untrusted = await execa('rpm', [...db, '--checksig', rpm], { reject: false });
    expect(untrusted.stdout).toMatch(/SIGNATURES NOT OK|NOKEY/);
    await execa('rpm', [...db, '--import', path.join(dir, 'influxdata-archive.key')]);
    expect((await execa('rpm', [...db, '--checksig', rpm])).stdout).toBe(`${rpm}: digests signatures OK`);
  });
});
