import net from 'node:net';
import type { WayFailure } from '../domain/host.ts';

/** Whether an sshd answered at an address: its banner line, or why not. */
export type BannerCheck = { ok: true; banner: string } | { ok: false; reason: WayFailure; detail: string };

const NO_ROUTE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * Opens a TCP connection to `host:port` and waits up to `timeoutMs` for an SSH banner (`SSH-2.0-...`),
 * then hangs up. No process is started, so every host of a big probe can be checked at once, and a
 * way that cannot work costs no ssh run.
 */
export function awaitSshBanner(
  host: string,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<BannerCheck> {
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = '';
    let connected = false;
    const finish = (check: BannerCheck): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(check);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'error', detail: 'canceled' });
    const timer = setTimeout(() => {
      const seconds = Math.round(options.timeoutMs / 100) / 10;
      finish({
        ok: false,
        reason: 'timeout',
        detail: connected
          ? `timed out — no SSH banner from ${where} within ${seconds} s`
          : `timed out — no TCP connection to ${where} within ${seconds} s`,
      });
    }, options.timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const line = received.split('\n').find((text) => text.startsWith('SSH-'));
      if (line) finish({ ok: true, banner: line.trim().slice(0, 200) });
      else if (received.length > 8192)
        finish({ ok: false, reason: 'error', detail: `${where} answered, but not with an SSH banner` });
    });
    socket.on('end', () =>
      finish({ ok: false, reason: 'refused', detail: `connection closed by ${where} before an SSH banner` }),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === 'ECONNREFUSED')
        finish({ ok: false, reason: 'refused', detail: `connection refused — ${where}` });
      else if (NO_ROUTE.has(code))
        finish({ ok: false, reason: 'no-route', detail: `no route — ${where} (${code})` });
      else if (code === 'ETIMEDOUT') finish({ ok: false, reason: 'timeout', detail: `timed out — ${where}` });
      else finish({ ok: false, reason: 'error', detail: `${where}: ${error.message}` });
    });
  });
}
