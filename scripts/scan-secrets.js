// Secrets scan (`scripts/scan-secrets [dir...]`, run last by `npm test`): looks through what the tests left —
// Redis AOFs and dumps, service logs, job output, run directories (the evidence dir, var/, the tests'
// temp dirs named outpost-*) — for private keys and for the passwords the tests used (listed by the tests
// in <evidence>/secrets.list, which this reads and deletes). Prints file and line of each finding, never the
// secret, and exits 1 when there is one.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Redis } from 'ioredis';

const root = path.resolve(import.meta.dirname, '..');
const evidence = path.resolve(root, process.env.OUTPOST_TEST_EVIDENCE ?? 'var/test-evidence');

/** What counts as key material, by name (the name is printed, never the match). */
const PATTERNS = [
  ['a PEM private key', /-----BEGIN (?:OPENSSH |RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----/],
  // base64 of "openssh-key-v1\0": the body of an OpenSSH private key, even without its BEGIN line.
  ['an OpenSSH private key body', /b3BlbnNzaC1rZXktdjEA/],
  // base64 of the PKCS#8 header of an ed25519 private key.
  ['a PKCS#8 ed25519 private key body', /MC4CAQAwBQYDK2VwBCIEI/],
];
// Files that hold a secret on purpose: the master key, the API token, the list itself.
const SKIPPED_NAMES = new Set(['master.key', 'api.token', 'secrets.list', 'test-results.json']);

async function main() {
  const secrets = await takeSecretList();
  const roots = process.argv.length > 2 ? process.argv.slice(2) : await defaultRoots();
  const findings = [];
  let files = 0;
  for (const dir of roots) {
    for await (const file of walk(dir)) {
      files += 1;
      findings.push(...(await scanFile(file, secrets)));
    }
  }
  for (const finding of findings) console.error(`scan-secrets: ${finding}`);
  console.log(
    `scan-secrets: ${files} files in ${roots.length} places, ${secrets.length} listed secrets: ` +
      (findings.length ? `${findings.length} finding(s)` : 'clean'),
  );
  if (findings.length) process.exit(1);
  await rm(evidence, { recursive: true, force: true });
}

/** The passwords the tests recorded; the list is deleted once read. */
async function takeSecretList() {
  const file = path.join(evidence, 'secrets.list');
  const text = await readFile(file, 'utf8').catch(() => '');
  await rm(file, { force: true });
  return [...new Set(text.split('\n').filter((line) => line.length >= 8))];
}

async function defaultRoots() {
  const tmp = os.tmpdir();
  const inUse = await pathsInUse();
  const temps = [];
  for (const name of await readdir(tmp).catch(() => [])) {
    if (!name.startsWith('outpost-')) continue;
    const dir = path.join(tmp, name);
    // A dir a live process works in belongs to a test still running (another suite on this machine).
    if (inUse.some((used) => used === dir || used.startsWith(`${dir}/`))) {
      console.log(`scan-secrets: skipped ${dir}: in use by a running process`);
      continue;
    }
    temps.push(dir);
  }
  return [path.join(root, 'var'), ...temps];
}

/** Every cwd and open file of every process. */
async function pathsInUse() {
  const paths = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const links = [
      `/proc/${pid}/cwd`,
      ...(await readdir(`/proc/${pid}/fd`).catch(() => [])).map((fd) => `/proc/${pid}/fd/${fd}`),
    ];
    for (const link of links) {
      const target = await readlink(link).catch(() => '');
      if (target.startsWith('/')) paths.push(target);
    }
  }
  return paths;
}

async function* walk(dir) {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat) return;
  if (stat.isFile()) {
    if (!SKIPPED_NAMES.has(path.basename(dir))) yield dir;
    return;
  }
  if (!stat.isDirectory()) return;
  for (const name of await readdir(dir).catch(() => [])) yield* walk(path.join(dir, name));
}

async function scanFile(file, secrets) {
  if (file.endsWith('.rdb')) return scanRdb(file, secrets);
  const findings = [];
  const lines = readline.createInterface({ input: createReadStream(file, 'latin1'), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    for (const what of matches(line, secrets)) findings.push({ line: number, what });
  }
  if (findings.length && (await isKeptKeyFile(file))) return [];
  return findings.map(({ line, what }) => `${file}:${line}: ${what}`);
}

/** Names of what `text` holds: key material or a listed secret (by its number in the list). */
function matches(text, secrets) {
  const found = PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
  secrets.forEach((secret, i) => {
    if (text.includes(secret)) found.push(`test secret #${i + 1} of the list`);
  });
  return found;
}

/**
 * A private key kept as a key should be: a file holding one key and nothing else, mode 0600, outside any
 * run directory (a run's keys are removed when it ends) — a test's own key, or a generated inventory's.
 */
async function isKeptKeyFile(file) {
  if (file.split(path.sep).includes('runs')) return false;
  const stat = await lstat(file);
  if ((stat.mode & 0o077) !== 0 || stat.size > 16_384) return false;
  const text = (await readFile(file, 'utf8')).trim();
  return /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END [A-Z ]*PRIVATE KEY-----$/.test(
    text,
  );
}

/** An RDB dump stores strings compressed: load it into a private redis-server and read every value back. */
async function scanRdb(file, secrets) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scan-rdb-'));
  const socket = path.join(dir, 'redis.sock');
  await copyFile(file, path.join(dir, 'dump.rdb'));
  const server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--dir',
      dir,
      '--dbfilename',
      'dump.rdb',
      '--appendonly',
      'no',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const findings = [];
  const redis = new Redis({
    path: socket,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    retryStrategy: () => 100,
  });
  redis.on('error', () => undefined); // connect is retried below until the server has loaded the dump
  try {
    await waitForSocket(redis);
    for (const db of [0, 1, 2, 3]) {
      await redis.select(db);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          for (const what of matches(`${key}\n${await valueText(redis, key)}`, secrets))
            findings.push(`${file} (key ${JSON.stringify(key)}): ${what}`);
        }
      } while (cursor !== '0');
    }
  } catch (error) {
    findings.push(`${file}: could not be read as an RDB dump (${String(error)})`);
  } finally {
    redis.disconnect();
    server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
  return findings;
}

async function waitForSocket(redis) {
  for (let i = 0; i < 100; i += 1) {
    try {
      await redis.connect();
      return;
    } catch {
      redis.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('redis-server did not load the dump');
}

async function valueText(redis, key) {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.getBuffer(key))?.toString('latin1') ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return (await redis.lrange(key, 0, -1)).join('\n');
    case 'set':
      return (await redis.smembers(key)).join('\n');
    case 'zset':
      return (await redis.zrange(key, 0, -1)).join('\n');
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

await main();
