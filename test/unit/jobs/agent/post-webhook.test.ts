import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, webhookTarget } from '../../../../src/jobs/agent/post-webhook.ts';
import { freePort } from '../../../support/free-port.ts';

// A real HTTP receiver on loopback: answers with the status the path asks for.
let server: http.Server;
let base: string;
const received: { path: string; authorization?: string; type?: string; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        authorization: request.headers.authorization,
        type: request.headers['content-type'],
        body,
      });
      response.writeHead(Number(/\/(\d{3})$/.exec(request.url ?? '')?.[1] ?? 200)).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('postWebhook', () => {
  it('POSTs JSON; a user part of the URL becomes Basic authentication, not part of the request line', async () => {
    const url = `http://watch:pa%24%24@${base.slice(7)}/hooks/T0KEN/200`;
    expect(await postWebhook(url, { alerts: [] })).toEqual({ ok: true, status: 200 });
    expect(received.at(-1)).toEqual({
      path: '/hooks/T0KEN/200',
      authorization: `Basic ${Buffer.from('watch:pa$$').toString('base64')}`,
      type: 'application/json',
      body: '{"alerts":[]}',
    });
  });

  it('says whether another try may help, naming only the receiver’s origin', async () => {
    for (const status of [500, 503, 429, 408]) {
      expect(await postWebhook(`${base}/secret-path/${status}`, {})).toEqual({
        ok: false,
        retry: true,
        detail: `webhook at ${base} answered ${status}`,
      });
    }
    for (const status of [400, 404, 410]) {
      expect(await postWebhook(`${base}/secret-path/${status}`, {})).toMatchObject({
        ok: false,
        retry: false,
      });
    }
    // A port nobody listens on: refused, worth another try later.
    const closed = await freePort();
    const refused = await postWebhook(`http://user:hunter2@127.0.0.1:${closed}/secret-path`, {});
    expect(refused).toEqual({
      ok: false,
      retry: true,
      detail: `webhook at http://127.0.0.1:${closed} did not answer: ECONNREFUSED`,
    });
    expect(JSON.stringify(refused)).not.toMatch(/secret-path|hunter2/);
  });

  it('shows a URL as its origin only', () => {
    expect(webhookTarget('https://u:p@hooks.example.org:8443/services/T/B/XYZ?token=1')).toBe(
      'https://hooks.example.org:8443',
    );
  });
});
