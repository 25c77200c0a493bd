import { fingerprint as fingerprintOf, sameKey } from '../../domain/ssh-key-line.ts';
import { reachOf } from '../../domain/reach-of.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { AppError } from '../../errors.ts';
import { captureHostKey } from '../../inventory/capture-host-key.ts';
import { captureHostKeyThroughProxy } from '../../inventory/capture-host-key-through-proxy.ts';
import type { Registry } from '../../registry/registry.ts';
import type { KeyStore } from '../../secrets/key-store.ts';

/** What `outpost host|proxy rekey` did: the key pinned now, and the one it replaced. */
export interface RekeyResult {
  kind: 'host' | 'proxy';
  id: string;
  /** The key pinned now, `type base64`. */
  hostKey: string;
  fingerprint: string;
  /** Fingerprint of the key pinned before, if any. */
  previous?: string;
  /** Whether the pin changed (false: the VM presents the key already pinned). */
  changed: boolean;
  /** How the key was read: `direct`, or through the named proxy. */
  via: string;
}

/**
 * Reads the host key a host or proxy presents now, through its reach (a host behind a proxy: through that
 * proxy, whose own pinned key is checked), and pins it. With `expected` (a fingerprint the operator got out
 * of band, e.g. from the VM's console), refuses to pin a key with any other fingerprint.
 */
export async function rekeyHostKey(
  deps: { registry: Registry; keys: KeyStore },
  kind: 'host' | 'proxy',
  id: string,
  options: { expected?: string; timeoutMs?: number } = {},
): Promise<RekeyResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  let pinned: string | undefined;
  let presented: string;
  let via = 'direct';
  if (kind === 'proxy') {
    const proxy = await deps.registry.getProxy(id);
    pinned = proxy.hostKey;
    presented = await capture(`proxy ${JSON.stringify(id)} (${proxy.publicAddress}:${proxy.sshPort})`, () =>
      captureHostKey({ host: proxy.publicAddress, port: proxy.sshPort, timeoutMs }),
    );
  } else {
    const host = await deps.registry.getHost(id);
    pinned = host.hostKey;
    const proxy = selectProxy(host, await deps.registry.listProxies({ project: host.project }));
    if (proxy && reachOf(host, proxy) !== 'direct') {
      const { hostKey: proxyKey } = proxy;
      if (!proxyKey) {
        throw new AppError(
          'proxy_not_pinned',
          `host ${JSON.stringify(id)} is reached through proxy ${JSON.stringify(proxy.id)}, whose own host key is not pinned: run \`outpost proxy rekey ${proxy.id}\` (or prepare the proxy) first`,
          { status: 409, details: { host: id, proxy: proxy.id } },
        );
      }
      via = `through proxy ${proxy.id}`;
      const privateKey = await deps.keys.projectPrivateKey(host.project);
      presented = await capture(`host ${JSON.stringify(id)} through proxy ${JSON.stringify(proxy.id)}`, () =>
        captureHostKeyThroughProxy(
          {
            id: proxy.id,
            host: proxy.publicAddress,
            port: proxy.sshPort,
            username: proxy.user,
            privateKey,
            hostKey: proxyKey,
          },
          { host: host.address, port: host.sshPort },
        ),
      );
    } else {
      presented = await capture(`host ${JSON.stringify(id)} (${host.address}:${host.sshPort})`, () =>
        captureHostKey({ host: host.address, port: host.sshPort, timeoutMs }),
      );
    }
  }
  const fingerprint = fingerprintOf(presented);
  if (options.expected !== undefined && options.expected !== fingerprint) {
    throw new AppError(
      'host_key_mismatch',
      `${kind} ${JSON.stringify(id)} presents a host key with fingerprint ${fingerprint}, not the ${options.expected} you gave: nothing was pinned. Check the fingerprint on the VM (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and that nothing sits between Outpost and it`,
      { status: 409, details: { kind, id, presented: fingerprint, expected: options.expected } },
    );
  }
  const changed = !pinned || !sameKey(pinned, presented);
  if (changed) {
    if (kind === 'proxy') await deps.registry.updateProxy(id, { hostKey: presented });
    else await deps.registry.updateHost(id, { hostKey: presented });
  }
  const previous = pinned ? fingerprintOf(pinned) : undefined;
  return { kind, id, hostKey: presented, fingerprint, ...(previous ? { previous } : {}), changed, via };
}

/** Runs a key capture; its failure says what could not be reached, keeping the cause. */
async function capture(what: string, read: () => Promise<string>): Promise<string> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof AppError && error.code === 'host_key_changed') throw error;
    const why =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
    throw new AppError(
      'host_key_unreachable',
      `cannot read the host key of ${what}${why ? `: ${why}` : ''}`,
      {
        status: 502,
        cause: error,
      },
    );
  }
}
