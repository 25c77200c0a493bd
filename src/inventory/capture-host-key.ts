import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { AppError } from '../errors.ts';
import { formatHostKey, parseSshKeyLine } from '../domain/ssh-key-line.ts';

/**
 * First contact: runs an SSH key exchange with `host:port` (or over `sock`, e.g. a channel opened
 * through a proxy with `forwardOut`) and resolves the server's host key as `type base64`, then
 * hangs up before authenticating. Pin it with `Registry.pinHostKey`.
 */
export function captureHostKey(target: {
  host?: string;
  port?: number;
  sock?: Duplex;
  timeoutMs?: number;
}): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let captured: string | undefined;
    const finish = (error?: Error) => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      if (captured) resolve(captured);
      else
        reject(
          new AppError(
            'host_key_capture_failed',
            `no host key from ${target.host ?? 'the given socket'}:${target.port ?? 22}`,
            { cause: error },
          ),
        );
    };
    client.on('error', (error) => finish(error));
    client.on('close', () => finish());
    client.connect({
      host: target.host,
      port: target.port ?? 22,
      sock: target.sock,
      username: 'outpost-probe',
      readyTimeout: target.timeoutMs ?? 15_000,
      hostVerifier: (key: Buffer) => {
        const parsed = ssh2.utils.parseKey(key);
        if (!(parsed instanceof Error)) {
          const line = parseSshKeyLine(`${parsed.type} ${key.toString('base64')}`);
          if (line) captured = formatHostKey(line);
        }
        // Refuse: we only wanted the key, never a session.
        return false;
      },
    });
  });
}
