/**
 * What the compiled CLI loads before it can print its help (issue 14: `outpost --help` ≤ 120 ms). The
 * time itself is measured by bench/cli-startup.ts; this guards its cause: zod (95 modules) and the
 * terminal libraries of `deploy --follow` crept back into the start path once through shared imports.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-cli-modules-'));
  // A module resolve hook that reports every URL the CLI loads on stderr.
  await writeFile(
    path.join(dir, 'hook.mjs'),
    "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n",
  );
  await writeFile(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hook.mjs')).href)});\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The packages (node_modules/<name>) and the count of Outpost's own modules a CLI run loads. */
async function loadedBy(args: string[]): Promise<{ packages: string[]; own: number; stdout: string }> {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, 'bin/outpost.js', ...args],
    { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } },
  );
  const urls = [...new Set(stderr.split('\n').filter((line) => line.startsWith('LOADED ')))];
  const packages = new Set<string>();
  let own = 0;
  for (const line of urls) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (match?.[1]) packages.add(match[1]);
    else if (line.includes('/dist/')) own += 1;
  }
  return { packages: [...packages].sort(), own, stdout };
}

it('prints its help loading commander and no validation, YAML, Redis or terminal-UI library', async () => {
  const help = await loadedBy(['--help']);
  expect(help.stdout).toContain('Usage: outpost');
  expect(help.packages).toEqual(['commander']);
  // The client path only: no server module (app/, queue worker, registry) among Outpost's own.
  expect(help.own).toBeLessThan(60);
});
