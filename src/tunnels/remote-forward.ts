import net from 'node:net';
import type { AcceptConnection, Client, ClientChannel, RejectConnection } from 'ssh2';
import { remoteForwardId } from './forward-id.ts';
import { pipeDuplex } from './pipe-duplex.ts';
import { probeDuplex } from './probe-duplex.ts';
import type { ForwardStatus, RemoteForwardSpec, TunnelLogger } from './tunnel-types.ts';

/**
 * A listener on the proxy (`forwardIn`); each connection it receives is carried back over SSH and
 * connected to the target from this machine. Re-requested on every new connection, on the same port.
 */
export class RemoteForward {
  readonly id: string;
  readonly spec: RemoteForwardSpec;
  readonly bindAddress: string;
  private readonly proxyId: string;
  private readonly logger: TunnelLogger;
  /** Requested port; after the first grant of a port-0 request, the granted one. */
  private port: number;
  private client: Client | undefined;
  private readonly pairs = new Set<() => void>();
  private active = 0;
  private lastSeen: Date | undefined;
  private lastCheck: ForwardStatus['lastCheck'];
  /** Outcomes of carried connections, for health checks waiting on one. */
  private readonly outcomeWaiters = new Set<(error?: Error) => void>();

  constructor(proxyId: string, bindAddress: string, spec: RemoteForwardSpec, logger: TunnelLogger) {
    this.proxyId = proxyId;
    this.bindAddress = bindAddress;
    this.spec = spec;
    this.port = spec.bindPort ?? 0;
    this.logger = logger;
    this.id = remoteForwardId(bindAddress, spec);
  }

  get boundPort(): number {
    return this.port;
  }

  /** True while the proxy listens for this forward on `client`. */
  isEstablishedOn(client: Client | undefined): boolean {
    return client !== undefined && this.client === client;
  }

  /** Asks the proxy's sshd to listen; resolves with the port it listens on. */
  establish(client: Client): Promise<number> {
    return new Promise((resolve, reject) => {
      client.forwardIn(this.bindAddress, this.port, (error, port) => {
        if (error) {
          this.record(false, `proxy refused to listen on ${this.bindAddress}:${this.port}: ${error.message}`);
          reject(new Error(`proxy refused to listen on ${this.bindAddress}:${this.port}: ${error.message}`));
          return;
        }
        // A port-0 request answers with the granted port; a fixed one answers 0 or the same port.
        if (this.port === 0) this.port = port;
        this.client = client;
        this.logger.info(
          {
            proxy: this.proxyId,
            forward: this.id,
            bind: `${this.bindAddress}:${this.port}`,
            target: `${this.spec.targetHost}:${this.spec.targetPort}`,
          },
          'remote forward listening on proxy',
        );
        resolve(this.port);
      });
    });
  }

  /** Forgets the connection it was established on (the connection is gone). */
  markLost(): void {
    this.client = undefined;
  }

  /** True when an incoming forwarded connection belongs to this forward. */
  matches(destIP: string, destPort: number): boolean {
    return (
      destPort === this.port &&
      (destIP === this.bindAddress || destIP === '' || this.bindAddress === '0.0.0.0')
    );
  }

  /** Carries one connection the proxy received to the target. */
  handle(accept: AcceptConnection<ClientChannel>, reject: RejectConnection): void {
    const socket = net.connect({
      host: this.spec.targetHost,
      port: this.spec.targetPort,
      allowHalfOpen: true,
    });
    const fail = (error: Error) => {
      socket.destroy();
      reject();
      this.logger.warn(
        { proxy: this.proxyId, forward: this.id, error: error.message },
        'remote forward could not reach target',
      );
      this.tell(
        new Error(`target ${this.spec.targetHost}:${this.spec.targetPort} unreachable: ${error.message}`),
      );
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      const channel = accept();
      this.active += 1;
      this.lastSeen = new Date();
      const destroy = () => {
        socket.destroy();
        channel.destroy();
      };
      this.pairs.add(destroy);
      pipeDuplex(channel, socket, () => {
        this.active -= 1;
        this.pairs.delete(destroy);
      });
      this.tell();
    });
  }

  status(connected: Client | undefined): ForwardStatus {
    const established = this.isEstablishedOn(connected);
    const failed = this.lastCheck !== undefined && !this.lastCheck.ok;
    return {
      id: this.id,
      kind: 'remote',
      bindAddress: this.bindAddress,
      port: this.port,
      targetHost: this.spec.targetHost,
      targetPort: this.spec.targetPort,
      state: established && !failed ? 'up' : this.port === 0 && !this.lastSeen ? 'pending' : 'down',
      lastSeen: this.lastSeen?.toISOString(),
      lastCheck: this.lastCheck,
      activeConnections: this.active,
    };
  }

  /**
   * Dials the proxy's listener from the proxy itself (a `forwardOut` on the same connection), so the
   * request travels back through this forward to the target. Records the result; never throws.
   */
  async check(client: Client, timeoutMs: number): Promise<boolean> {
    const probe = this.spec.probe ?? { kind: 'connect' };
    let channel: ClientChannel | undefined;
    let waiter: ((error?: Error) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const carried = new Promise<void>((resolve, reject) => {
        waiter = (error) => (error ? reject(error) : resolve());
        this.outcomeWaiters.add(waiter);
      });
      carried.catch(() => {});
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([
        deadline,
        (async () => {
          channel = await new Promise<ClientChannel>((resolve, reject) => {
            client.forwardOut('127.0.0.1', 0, this.bindAddress, this.port, (error, ch) =>
              error
                ? reject(
                    new Error(
                      `proxy could not dial its own listener ${this.bindAddress}:${this.port}: ${error.message}`,
                    ),
                  )
                : resolve(ch),
            );
          });
          await carried;
          await probeDuplex(channel, probe, this.spec.targetHost, timeoutMs);
        })(),
      ]);
      this.record(true);
      return true;
    } catch (error) {
      this.record(false, (error as Error).message);
      return false;
    } finally {
      clearTimeout(timer);
      if (waiter) this.outcomeWaiters.delete(waiter);
      channel?.destroy();
    }
  }

  /** Stops the proxy listening (when still connected) and drops every carried connection. */
  async close(): Promise<void> {
    for (const destroy of [...this.pairs]) destroy();
    const client = this.client;
    this.client = undefined;
    if (!client || this.port === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      try {
        client.unforwardIn(this.bindAddress, this.port, () => {
          clearTimeout(t);
          resolve();
        });
      } catch {
        clearTimeout(t);
        resolve();
      }
    });
    this.logger.info({ proxy: this.proxyId, forward: this.id }, 'remote forward closed');
  }

  private tell(error?: Error): void {
    for (const waiter of [...this.outcomeWaiters]) waiter(error);
  }

  private record(ok: boolean, error?: string): void {
    const at = new Date();
    this.lastCheck = { at: at.toISOString(), ok, error };
    if (ok) this.lastSeen = at;
  }
}
