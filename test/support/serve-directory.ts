import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** A static HTTP file server started by {@link serveDirectory}. */
export interface DirectoryServer {
  /** `http://<address>:<port>` */
  url: string;
  /** Paths asked for so far, in order (tests assert what a VM downloaded). */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Serves the files under `root` read-only (GET and HEAD; no listings, nothing outside `root`) on
 * `address:port`, as a package mirror would. Port 0 picks a free one.
 */
export async function serveDirectory(root: string, address: string, port = 0): Promise<DirectoryServer> {
  const base = path.resolve(root);
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    const file = path.join(base, pathname);
    if (!['GET', 'HEAD'].includes(request.method ?? '') || !file.startsWith(`${base}${path.sep}`)) {
      response.writeHead(request.method === 'GET' || request.method === 'HEAD' ? 404 : 405).end();
      return;
    }
    stat(file).then(
      (found) => {
        if (!found.isFile()) return void response.writeHead(404).end();
        response.writeHead(200, { 'content-length': found.size, 'content-type': 'application/octet-stream' });
        if (request.method === 'HEAD') return void response.end();
        createReadStream(file).pipe(response);
      },
      () => void response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${bound}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
