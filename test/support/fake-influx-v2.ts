/**
 * FAKE InfluxDB 2.x: only Debian's InfluxDB 1.x can be installed on this machine, so the v2 path is
 * tested against this stand-in of the v2 HTTP API (token auth, /ping, buckets, orgs, Flux query with
 * annotated-CSV answers). It records what it was asked so tests can check the requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInfluxV2 {
  url: string;
  /** Every request: method, path with query, body, authorization header. */
  requests: { method: string; url: string; body: string; authorization: string | undefined }[];
  buckets: string[];
  /** Rows the next Flux queries answer with (columns `_time,_value,_field,_measurement,host,outpost_config`). */
  rows: {
    _time: string;
    _value: number;
    _field: string;
    _measurement: string;
    host: string;
    outpost_config?: string;
  }[];
  close(): Promise<void>;
}

export async function startFakeInfluxV2(options: {
  token: string;
  org: string;
  orgId: string;
}): Promise<FakeInfluxV2> {
  const fake: Omit<FakeInfluxV2, 'url' | 'close'> = { requests: [], buckets: [], rows: [] };
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      fake.requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        body,
        authorization: request.headers.authorization,
      });
      if (url.pathname === '/ping') return void response.writeHead(204).end();
      if (request.headers.authorization !== `Token ${options.token}`)
        return void response.writeHead(401).end('{"code":"unauthorized"}');
      const json = (status: number, value: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (url.pathname === '/api/v2/buckets' && request.method === 'GET') {
        const name = url.searchParams.get('name');
        return json(200, {
          buckets: fake.buckets.filter((bucket) => bucket === name).map((bucket) => ({ name: bucket })),
        });
      }
      if (url.pathname === '/api/v2/buckets' && request.method === 'POST') {
        fake.buckets.push((JSON.parse(body) as { name: string }).name);
        return json(201, {});
      }
      if (url.pathname === '/api/v2/orgs') {
        return json(200, {
          orgs: url.searchParams.get('org') === options.org ? [{ id: options.orgId }] : [],
        });
      }
      if (url.pathname === '/api/v2/query') {
        const lines = [
          '#datatype,string,long,dateTime:RFC3339,double,string,string,string,string',
          '#group,false,false,false,false,true,true,true,true',
          '#default,_result,,,,,,,',
          ',result,table,_time,_value,_field,_measurement,host,outpost_config',
          ...fake.rows.map(
            (row, i) =>
              `,,${i},${row._time},${row._value},${row._field},${row._measurement},${row.host},${row.outpost_config ?? ''}`,
          ),
        ];
        return void response.writeHead(200, { 'content-type': 'text/csv' }).end(lines.join('\r\n') + '\r\n');
      }
      json(404, { code: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
