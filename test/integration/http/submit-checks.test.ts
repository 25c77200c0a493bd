/**
 * Input refused at the door (issue 15): what a submit names that does not exist, hosts two proxies
 * match equally, tags read as options, private keys that cannot work, networks that are not networks,
 * bodies of another media type and requests that are not HTTP. An `outpost serve --role api` with no
 * worker: nothing submitted here ever runs, so no traffic leaves loopback.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { recordTestSecret } from '../../support/test-evidence.ts';
import { api, outpostCli, startOutpost, type OutpostProcess } from './start-outpost.ts';

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-door-'));
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api'], name: 'door' });
  const add = async (route: string, body: Record<string, unknown>) => {
    const answer = await api(outpost.url, 'POST', route, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  await add('/v1/projects', { id: 'shop' });
  await add('/v1/projects', { id: 'other' });
  await add('/v1/proxies', proxyBody('vpc-a'));
  await add('/v1/hosts', {
    id: 'web-1',
    project: 'shop',
    address: '198.51.100.5',
    network: '198.51.100.0/26',
  });
  await add('/v1/hosts', { id: 'db-9', project: 'other', address: '203.0.113.99' });
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

function proxyBody(id: string): Record<string, unknown> {
  return {
    id,
    project: 'shop',
    publicAddress: id === 'vpc-a' ? '203.0.113.10' : '203.0.113.11',
    vpcAddress: id === 'vpc-a' ? '198.51.100.1' : '198.51.100.2',
    networks: ['198.51.100.0/26'],
  };
}

const cli = (...args: string[]) => outpostCli(outpost.url, args);

const submit = (body: Record<string, unknown>) => api(outpost.url, 'POST', '/v1/jobs', body);

describe('a job naming what does not exist', () => {
  it('is refused with 400 naming every unknown host, and the CLI exits 1 saying so', async () => {
    const refused = await submit({ kind: 'deploy-agent', hosts: ['web-1', 'nosuch', 'gone'] });
    expect(refused.status).toBe(400);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ field: 'hosts', detail: 'hosts: no host named "nosuch", "gone"' });
    const run = await cli('deploy', 'nosuch');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('outpost: 400: hosts: no host named "nosuch"');
    expect(run.stderr).not.toContain('queued');
  });

  it('refuses an unknown project, an unknown selector proxy, and a proxy where hosts are wanted', async () => {
    expect((await submit({ kind: 'deploy-agent', project: 'nope' })).body).toMatchObject({
      status: 400,
      field: 'project',
      detail: 'project: no project named "nope"',
    });
    expect((await submit({ kind: 'probe', selector: { proxy: 'vpc-z' } })).body).toMatchObject({
      field: 'selector.proxy',
      detail: 'selector.proxy: no proxy named "vpc-z"',
    });
    expect((await submit({ kind: 'deploy-agent', hosts: ['vpc-a'] })).body).toMatchObject({
      field: 'hosts',
      detail: 'hosts: "vpc-a" is a proxy: a deploy-agent job is for hosts',
    });
    expect((await submit({ kind: 'prepare-proxy', hosts: ['web-1'] })).body).toMatchObject({
      field: 'hosts',
      detail: 'hosts: "web-1" is a host: a prepare-proxy job is for proxies',
    });
  });

  it('refuses hosts of two projects, and records the project of a job given only host ids', async () => {
    const mixed = await submit({ kind: 'probe', hosts: ['web-1', 'db-9'] });
    expect(mixed.body).toMatchObject({ status: 400, field: 'hosts' });
    expect(String(mixed.body.detail)).toMatch(/"db-9" is in project "other", host "web-1" in "shop"/);
    expect((await submit({ kind: 'probe', project: 'other', hosts: ['web-1'] })).status).toBe(400);
    const accepted = await submit({ kind: 'probe', hosts: ['web-1'] });
    expect(accepted.status).toBe(202);
    expect(accepted.body.project).toBe('shop');
  });
});

describe('two proxies serving one network', () => {
  it('warns on proxy add (the CLI prints it), refuses a new host there without --proxy, and jobs for an older one', async () => {
    const added = await cli(
      'proxy', 'add', 'vpc-b', '--project', 'shop', '--public-address', '203.0.113.11',
      '--vpc-address', '198.51.100.2', '--network', '198.51.100.0/26',
    ); // prettier-ignore
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain(
      'outpost: warning: proxy "vpc-b" serves 198.51.100.0/26 like proxy "vpc-a": hosts in 198.51.100.0/26 must name their proxy (--proxy)',
    );
    expect(added.stderr).toContain('1 existing host(s) now match more than one proxy equally');
    expect(added.stderr).toContain(': web-1');

    const ambiguous = await api(outpost.url, 'POST', '/v1/hosts', {
      id: 'web-2',
      project: 'shop',
      address: '198.51.100.6',
    });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.field).toBe('proxy');
    expect(String(ambiguous.body.detail)).toContain('matches proxies "vpc-a" and "vpc-b" equally');
    const named = await cli(
      'host',
      'add',
      'web-2',
      '--project',
      'shop',
      '--address',
      '198.51.100.6',
      '--proxy',
      'vpc-b',
    );
    expect(named.code, named.stderr).toBe(0);

    const old = await submit({ kind: 'deploy-agent', hosts: ['web-1'] });
    expect(old.status).toBe(400);
    expect(String(old.body.detail)).toContain(
      'host "web-1" (198.51.100.5) matches proxies "vpc-a" and "vpc-b" equally',
    );
    const whole = await submit({ kind: 'deploy-agent', project: 'shop' });
    expect(whole.body).toMatchObject({ status: 400, field: 'hosts' });
    expect((await submit({ kind: 'deploy-agent', hosts: ['web-2'] })).status).toBe(202);
  });
});

describe('options, credentials and selectors that cannot be right', () => {
  const job = { kind: 'probe', hosts: ['web-2'] };

  it('refuses tags and skip-tags that would read as options', async () => {
    for (const [field, options] of [
      ['options.tags.0', { tags: ['--help'] }],
      ['options.skipTags.1', { skipTags: ['ok', '-t'] }],
    ] as const) {
      const answer = await submit({ ...job, options });
      expect(answer.body, field).toMatchObject({ status: 400, field: `body.${field}` });
      expect(String(answer.body.detail)).toContain('must not start with -');
    }
  });

  it('validates selector.network as host networks are', async () => {
    for (const network of ['--help', '../../etc/passwd', '198.51.100.5/26']) {
      const answer = await submit({ kind: 'probe', selector: { network } });
      expect(answer.body, network).toMatchObject({ status: 400, field: 'body.selector.network' });
      expect(String(answer.body.detail)).toContain('expected a CIDR with no host bits set');
    }
    const fine = await submit({
      kind: 'probe',
      project: 'shop',
      selector: { network: '198.51.100.0/26', proxy: 'vpc-b' },
    });
    expect(fine.status, JSON.stringify(fine.body)).toBe(202);
  });

  it('parses a private key at submit, naming the field and never echoing the key or passphrase', async () => {
    const keys = await mkdtemp(path.join(os.tmpdir(), 'outpost-door-keys-'));
    try {
      const passphrase = 'door-passphrase-7c1f';
      await recordTestSecret(passphrase);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', `${keys}/locked`]);
      await execa('ssh-keygen', [
        '-q',
        '-t',
        'rsa',
        '-b',
        '2048',
        '-m',
        'PEM',
        '-N',
        '',
        '-f',
        `${keys}/pem`,
      ]);
      const locked = await readFile(`${keys}/locked`, 'utf8');
      const pem = await readFile(`${keys}/pem`, 'utf8');
      await recordTestSecret(locked.split('\n')[2] ?? '');
      const enroll = (credentials: Record<string, string>) =>
        submit({ kind: 'enroll', hosts: ['web-2'], credentials });
      const body = locked.split('\n')[3] ?? '';
      // Half a key: the first lines and the END line.
      const truncated = [...pem.split('\n').slice(0, 5), '-----END RSA PRIVATE KEY-----', ''].join('\n');

      const cases: [Record<string, string>, string, string][] = [
        [{ privateKey: 'not a key at all' }, 'credentials.privateKey', 'expected an OpenSSH or PEM private key'],
        [{ privateKey: truncated }, 'credentials.privateKey', 'not a readable private key'],
        [{ privateKey: locked }, 'credentials.passphrase', 'required: credentials.privateKey is encrypted'],
        [{ privateKey: locked, passphrase: 'wrong-one' }, 'credentials.passphrase', 'does not unlock credentials.privateKey'],
        [{ password: 'x', passphrase }, 'credentials.passphrase', 'only with credentials.privateKey'],
      ]; // prettier-ignore
      for (const [credentials, field, detail] of cases) {
        const answer = await enroll(credentials);
        expect(answer.body, field).toMatchObject({ status: 400, field });
        expect(String(answer.body.detail)).toContain(detail);
        const text = JSON.stringify(answer.body);
        for (const secret of [passphrase, 'wrong-one', body, 'not a key at all'])
          expect(text).not.toContain(secret);
      }
      expect((await enroll({ privateKey: locked, passphrase })).status).toBe(202);
      expect((await enroll({ privateKey: pem })).status).toBe(202);
    } finally {
      await rm(keys, { recursive: true, force: true });
    }
  });
});

describe('requests that are not JSON or not HTTP', () => {
  it('answers a body of another media type with 415 naming the type accepted', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml']) {
      const answer = await api(
        outpost.url,
        'POST',
        '/v1/jobs',
        JSON.stringify({ kind: 'probe', project: 'shop' }),
        {
          'content-type': type,
        },
      );
      expect(answer.status, type).toBe(415);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ field: 'Content-Type', accepted: ['application/json'] });
      expect(String(answer.body.detail)).toBe(`Content-Type: expected application/json, got "${type}"`);
    }
    // A POST without a body is not a media-type question.
    expect((await api(outpost.url, 'POST', '/v1/jobs/job-none/cancel')).status).toBe(404);
  });

  it('answers a malformed request line or length with problem+json', async () => {
    for (const [request, detail] of [
      ['BREW /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n', 'request line: not a known HTTP method'],
      ['GET /v1/jobs HTTP/9.9\r\nHost: x\r\n\r\n', 'request line: not a valid HTTP version'],
      [
        'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
        'Content-Length: not a valid length',
      ],
      [
        'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'Transfer-Encoding: not valid, or sent with Content-Length',
      ],
    ]) {
      const answer = await rawRequest(request ?? '');
      expect(answer, request).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(answer).toContain('Content-Type: application/problem+json');
      const problem = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      expect(problem).toMatchObject({ status: 400, title: 'Bad Request', detail });
    }
    expect((await fetch(`${outpost.url}/healthz`)).status).toBe(200);
  });
});

/** Sends raw bytes to the API port; resolves with everything the server answered before closing. */
async function rawRequest(text: string): Promise<string> {
  const { hostname, port } = new URL(outpost.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
  });
}
