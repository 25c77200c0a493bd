import type { Client } from 'ssh2';
import { ConflictError } from '../errors.ts';
import { computeBackoff, type BackoffOptions } from './compute-backoff.ts';
import { localForwardId, remoteForwardId } from './forward-id.ts';
import type { PortRange } from './listen-in-range.ts';
import { LocalForward } from './local-forward.ts';
import { ProxyConnection } from './proxy-connection.ts';
import { RemoteForward } from './remote-forward.ts';
import { HostKeyChangedError } from '../domain/host-key-changed-error.ts';
import { TunnelUnavailableError } from './tunnel-errors.ts';
import {
  silentLogger,
  type LocalForwardSpec,
  type ProxyStatus,
  type RemoteForwardSpec,
  type TunnelLogger,
  type TunnelProxy,
} from './tunnel-types.ts';
import {
  validateLocalForwardSpec,
  validateRemoteForwardSpec,
  validateTunnelProxy,
} from './validate-tunnel-input.ts';

/** Options of a TunnelKeeper; every duration in milliseconds. */
export interface TunnelKeeperOptions {
  /** Private key of the proxies' login user (cloudroot). Never logged. */
  privateKey: Buffer | string;
  logger?: TunnelLogger;
  /** Keepalive period. Default 5000. A dead peer is noticed within interval x (countMax + 1). */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives tolerated. Default 3. */
  keepaliveCountMax?: number;
  /** TCP connect + handshake + auth limit. Default 5000. */
  readyTimeoutMs?: number;
  /** Reconnect (and forward re-request) delays. Defaults: 500 ms doubling to 4000 ms, 50 % jitter. */
  backoff?: BackoffOptions;
  /** Address local forwards listen on. Default 127.0.0.1. */
  localBindAddress?: string;
  /** Ports local forwards may use. Default 40000-40999. */
  localPortRange?: PortRange;
  /** Period of the health checks of every forward. Default 15000; 0 turns periodic checks off. */
  healthCheckIntervalMs?: number;
  /** Limit of one health check. Default 5000. */
  healthCheckTimeoutMs?: number;
  /** How long `ensure*` waits for the proxy connection (and a remote forward) to be up. Default 15000. */
  ensureWaitMs?: number;
}

interface ProxyEntry {
  proxy: TunnelProxy;
  connection: ProxyConnection;
  local: Map<string, LocalForward>;
  remote: Map<string, RemoteForward>;
  /** Re-request timers of remote forwards the proxy refused (e.g. port still held by a dying session). */
  retries: Map<string, NodeJS.Timeout>;
}

/**
 * Holds, per proxy, one SSH connection and the local and remote forwards on it; restores every
 * forward after a reconnect and health-checks them by dialing through them.
 */
export class TunnelKeeper {
  private readonly options: TunnelKeeperOptions;
  private readonly logger: TunnelLogger;
  private readonly entries = new Map<string, ProxyEntry>();
  private readonly healthTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: TunnelKeeperOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    const every = options.healthCheckIntervalMs ?? 15_000;
    if (every > 0) {
      this.healthTimer = setInterval(() => void this.checkAll(), every);
      this.healthTimer.unref();
    }
  }

  /**
   * Makes sure a listener on this machine carries connections through `proxy` to the target.
   * Idempotent: the same target returns the same listener. Waits for the proxy connection.
   * @returns where to connect (`localBindAddress` and a port from `localPortRange`).
   */
  async ensureLocalForward(
    proxy: TunnelProxy,
    spec: LocalForwardSpec,
  ): Promise<{ host: string; port: number }> {
    validateLocalForwardSpec(spec);
    const entry = this.entryFor(proxy);
    const id = localForwardId(spec);
    let forward = entry.local.get(id);
    if (!forward) {
      forward = new LocalForward(spec, {
        proxyId: proxy.id,
        bindAddress: this.options.localBindAddress ?? '127.0.0.1',
        portRange: this.options.localPortRange ?? { min: 40000, max: 40999 },
        waitForClient: (ms) => entry.connection.whenReady(ms),
        logger: this.logger,
      });
      entry.local.set(id, forward);
      try {
        await forward.open();
      } catch (error) {
        entry.local.delete(id);
        throw error;
      }
      if (this.entries.get(proxy.id) !== entry || entry.local.get(id) !== forward) {
        // Released while the listener was being bound: do not leave it behind.
        await forward.close();
        throw new TunnelUnavailableError(proxy.id, 'released while the forward was being opened');
      }
    }
    await this.waitReady(entry);
    return forward.address;
  }

  /**
   * Makes sure the proxy listens on `bindAddress:bindPort` (default: its VPC address, a port sshd
   * picks) and carries each connection back to the target. Idempotent per bind address and port
   * (per target when the port is left to sshd). Waits until the proxy listens.
   * @returns the address and port clients inside the VPC connect to.
   */
  async ensureRemoteForward(
    proxy: TunnelProxy,
    spec: RemoteForwardSpec,
  ): Promise<{ bindAddress: string; port: number }> {
    validateRemoteForwardSpec(spec);
    const entry = this.entryFor(proxy);
    const bindAddress = spec.bindAddress ?? proxy.vpcAddress;
    let forward = entry.remote.get(remoteForwardId(bindAddress, spec));
    if (
      forward &&
      (forward.spec.targetHost !== spec.targetHost || forward.spec.targetPort !== spec.targetPort)
    ) {
      throw new ConflictError(
        `proxy ${JSON.stringify(proxy.id)} already forwards ${bindAddress}:${spec.bindPort} to ${forward.spec.targetHost}:${forward.spec.targetPort}`,
        { proxy: proxy.id, forward: forward.id },
      );
    }
    if (!forward) {
      forward = new RemoteForward(proxy.id, bindAddress, spec, this.logger);
      entry.remote.set(forward.id, forward);
      const client = entry.connection.readyClient;
      if (client) this.establishRemote(entry, forward, client);
    }
    const deadline = Date.now() + (this.options.ensureWaitMs ?? 15_000);
    await this.waitReady(entry);
    while (!forward.isEstablishedOn(entry.connection.readyClient)) {
      if (Date.now() > deadline || !entry.remote.has(forward.id)) {
        const reason =
          forward.status(undefined).lastCheck?.error ??
          entry.connection.status().lastError ??
          'not connected';
        throw new TunnelUnavailableError(
          proxy.id,
          `no listener on ${bindAddress}:${forward.boundPort} yet: ${reason}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { bindAddress, port: forward.boundPort };
  }

  /** Drops one forward (by its status id) or, without `forwardId`, the proxy's connection and all its forwards. */
  async release(proxyId: string, forwardId?: string): Promise<void> {
    const entry = this.entries.get(proxyId);
    if (!entry) return;
    if (forwardId === undefined) {
      this.entries.delete(proxyId);
      for (const t of entry.retries.values()) clearTimeout(t);
      await Promise.all([...entry.local.values()].map((f) => f.close()));
      await Promise.all([...entry.remote.values()].map((f) => f.close()));
      await entry.connection.close();
      this.logger.info({ proxy: proxyId }, 'proxy released');
      return;
    }
    const local = entry.local.get(forwardId);
    if (local) {
      entry.local.delete(forwardId);
      await local.close();
    }
    const remote = entry.remote.get(forwardId);
    if (remote) {
      entry.remote.delete(forwardId);
      clearTimeout(entry.retries.get(forwardId));
      entry.retries.delete(forwardId);
      await remote.close();
    }
  }

  /** Proxy ids this keeper holds. */
  proxyIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Every proxy connection and forward with its state, last check and last-seen time. */
  status(): ProxyStatus[] {
    return [...this.entries.values()].map((entry) => {
      const client = entry.connection.readyClient;
      return {
        ...entry.connection.status(),
        forwards: [
          ...[...entry.local.values()].map((f) => f.status(client !== undefined)),
          ...[...entry.remote.values()].map((f) => f.status(client)),
        ],
      };
    });
  }

  /** Runs the health check of every forward (of one proxy, or all) now; resolves with the new status. */
  async checkAll(proxyId?: string): Promise<ProxyStatus[]> {
    const timeout = this.options.healthCheckTimeoutMs ?? 5000;
    const entries = proxyId
      ? [this.entries.get(proxyId)].filter((e) => e !== undefined)
      : [...this.entries.values()];
    await Promise.all(
      entries.map(async (entry) => {
        const client = entry.connection.readyClient;
        if (!client) return;
        for (const f of entry.local.values()) await f.check(timeout);
        for (const f of entry.remote.values()) if (f.isEstablishedOn(client)) await f.check(client, timeout);
      }),
    );
    return this.status();
  }

  /** Releases every proxy. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.healthTimer);
    await Promise.all([...this.entries.keys()].map((id) => this.release(id)));
  }

  private entryFor(proxy: TunnelProxy): ProxyEntry {
    if (this.closed) throw new ConflictError('the tunnel keeper is closed');
    validateTunnelProxy(proxy);
    const existing = this.entries.get(proxy.id);
    if (existing && sameEndpoint(existing.proxy, proxy)) return existing;
    const entry: ProxyEntry = existing ?? {
      proxy,
      connection: undefined as unknown as ProxyConnection,
      local: new Map(),
      remote: new Map(),
      retries: new Map(),
    };
    if (existing) {
      // The record changed (address, user or pinned key): reconnect with the new one, keep the forwards.
      this.logger.info({ proxy: proxy.id }, 'proxy record changed; reconnecting');
      void existing.connection.close();
      for (const f of entry.remote.values()) f.markLost();
    }
    entry.proxy = proxy;
    entry.connection = new ProxyConnection(proxy, {
      privateKey: this.options.privateKey,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs,
      keepaliveCountMax: this.options.keepaliveCountMax,
      readyTimeoutMs: this.options.readyTimeoutMs,
      backoff: this.options.backoff,
      logger: this.logger,
      onReady: (client) => this.restore(entry, client),
      onDown: () => {
        for (const f of entry.remote.values()) f.markLost();
      },
    });
    this.entries.set(proxy.id, entry);
    return entry;
  }

  /** On every new connection: route incoming forwarded connections, re-request every remote forward, check all. */
  private restore(entry: ProxyEntry, client: Client): void {
    client.on('tcp connection', (details, accept, reject) => {
      const forward = [...entry.remote.values()].find((f) => f.matches(details.destIP, details.destPort));
      if (forward) forward.handle(accept, reject);
      else {
        this.logger.warn(
          { proxy: entry.proxy.id, dest: `${details.destIP}:${details.destPort}` },
          'forwarded connection for no known forward',
        );
        reject();
      }
    });
    for (const forward of entry.remote.values()) this.establishRemote(entry, forward, client);
    void this.checkAll(entry.proxy.id);
  }

  private establishRemote(entry: ProxyEntry, forward: RemoteForward, client: Client, attempt = 0): void {
    clearTimeout(entry.retries.get(forward.id));
    entry.retries.delete(forward.id);
    forward.establish(client).then(
      () => void forward.check(client, this.options.healthCheckTimeoutMs ?? 5000),
      (error: Error) => {
        if (entry.connection.readyClient !== client || !entry.remote.has(forward.id)) return;
        const delay = computeBackoff(attempt, this.options.backoff);
        this.logger.warn(
          { proxy: entry.proxy.id, forward: forward.id, error: error.message, retryMs: delay },
          'remote forward refused; retrying',
        );
        entry.retries.set(
          forward.id,
          setTimeout(() => {
            if (entry.connection.readyClient === client)
              this.establishRemote(entry, forward, client, attempt + 1);
          }, delay),
        );
      },
    );
  }

  private async waitReady(entry: ProxyEntry): Promise<void> {
    try {
      await entry.connection.whenReady(this.options.ensureWaitMs ?? 15_000);
    } catch (error) {
      // A wrong host key will not fix itself: do not leave a connection or listeners behind.
      if (error instanceof HostKeyChangedError) await this.release(entry.proxy.id);
      throw error;
    }
  }
}

function sameEndpoint(a: TunnelProxy, b: TunnelProxy): boolean {
  return (
    a.publicAddress === b.publicAddress &&
    a.sshPort === b.sshPort &&
    a.user === b.user &&
    a.hostKey === b.hostKey
  );
}
