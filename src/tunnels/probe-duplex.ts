import type { Duplex } from 'node:stream';
import { quote } from '../errors.ts';
import type { ForwardProbe } from './tunnel-types.ts';

/**
 * Proves a stream reaches a live service: `banner` waits for the first bytes the far end sends,
 * `http` sends a GET and waits for a status line, `connect` asks nothing more. Rejects after
 * `timeoutMs`. Leaves the stream open; the caller destroys it.
 */
export function probeDuplex(
  stream: Duplex,
  probe: ForwardProbe,
  host: string,
  timeoutMs: number,
): Promise<void> {
  if (probe.kind === 'connect') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (error?: Error) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', done);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (probe.kind === 'banner') return done();
      if (received.length < 5 && !received.includes(10)) return;
      const line = received.toString('latin1').split(/\r?\n/)[0] ?? '';
      done(/^HTTP\/\d/.test(line) ? undefined : new Error(`not an HTTP answer: ${quote(line)}`));
    };
    const onClose = () =>
      done(new Error(received.length ? 'closed before a full answer' : 'closed without an answer'));
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', onData);
    stream.on('error', done);
    stream.on('close', onClose);
    if (probe.kind === 'http')
      stream.write(`GET ${probe.path} HTTP/1.0\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}
