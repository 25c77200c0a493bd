import ssh2 from 'ssh2';
import { AppError } from '../errors.ts';
import { HostKeyChangedError } from '../domain/host-key-changed-error.ts';
import { sameKey } from '../domain/ssh-key-line.ts';
import { captureHostKey } from './capture-host-key.ts';

/** How to log in to a proxy whose own host key is already pinned. */
export interface ProxyLogin {
  id: string;
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** The proxy's pinned key, `type base64`: the connection is refused on any other. */
  hostKey: string;
}

/**
 * First contact with a host behind a proxy: logs in to the proxy (its key checked against the pin),
 * opens a channel to `target` and reads the target's host key over it, without logging in there.
 */
export async function captureHostKeyThroughProxy(
  proxy: ProxyLogin,
  target: { host: string; port: number },
): Promise<string> {
  const client = new ssh2.Client();
  let presented: string | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
      client.connect({
        host: proxy.host,
        port: proxy.port,
        username: proxy.username,
        privateKey: proxy.privateKey,
        readyTimeout: 15_000,
        hostVerifier: (key: Buffer) => {
          const parsed = ssh2.utils.parseKey(key);
          presented = parsed instanceof Error ? undefined : `${parsed.type} ${key.toString('base64')}`;
          return presented !== undefined && sameKey(presented, proxy.hostKey);
        },
      });
    }).catch((error: unknown) => {
      if (presented && !sameKey(presented, proxy.hostKey)) {
        throw new HostKeyChangedError('proxy', proxy.id, { pinned: proxy.hostKey, presented });
      }
      throw new AppError('proxy_unreachable', `cannot log in to proxy ${JSON.stringify(proxy.id)}`, {
        cause: error,
      });
    });
    const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, target.host, target.port, (error, stream) =>
        error ? reject(error) : resolve(stream),
      );
    });
    return await captureHostKey({ sock: channel, host: target.host, port: target.port });
  } finally {
    client.end();
  }
}
