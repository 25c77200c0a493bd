import net from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { localForwardId } from './forward-id.ts';
import { listenInRange, type PortRange } from './listen-in-range.ts';
import { pipeDuplex } from './pipe-duplex.ts';
import { probeDuplex } from './probe-duplex.ts';
import type { ForwardStatus, LocalForwardSpec, TunnelLogger } from './tunnel-types.ts';

/** What a local forward needs from its proxy connection. */
export interface LocalForwardContext {
  proxyId: string;
  bindAddress: string;
  portRange: PortRange;
  /** The ready client, waiting up to `ms` for a reconnect. */
  waitForClient: (ms: number) => Promise<Client>;
  /** How long an accepted connection waits for a lost proxy connection to come back. Default 10000 ms. */
  acceptWaitMs?: number;
  logger: TunnelLogger;
}

/**
 * A listener on this machine; each accepted socket is carried through the proxy to the target with
 * `forwardOut`. The listener (and so its port) lives across reconnects of the proxy connection.
 */
export class LocalForward {
  readonly id: string;
  readonly spec: LocalForwardSpec;
  private readonly ctx: LocalForwardContext;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Health checks waiting for the channel of the socket from their local port. */
  private readonly checks = new Map<number, (error?: Error) => void>();
  /** Outcomes that arrived before their health check asked (kept briefly). */
  private readonly early = new Map<number, Error | null>();
  private port = 0;
  private active = 0;
  private lastSeen: Date | undefined;
  private lastCheck: ForwardStatus['lastCheck'];

  constructor(spec: LocalForwardSpec, ctx: LocalForwardContext) {
    this.id = localForwardId(spec);
    this.spec = spec;
    this.ctx = ctx;
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Binds the listener to a free port of the range; returns the port. */
  async open(): Promise<number> {
    this.port = await listenInRange(this.server, this.ctx.bindAddress, this.ctx.portRange);
    this.server.on('error', (error) =>
      this.ctx.logger.error(
        { proxy: this.ctx.proxyId, forward: this.id, error: error.message },
        'listener error',
      ),
    );
    this.ctx.logger.info(
      { proxy: this.ctx.proxyId, forward: this.id, bind: `${this.ctx.bindAddress}:${this.port}` },
      'local forward listening',
    );
    return this.port;
  }

  get address(): { host: string; port: number } {
    return { host: this.ctx.bindAddress, port: this.port };
  }

  status(connected: boolean): ForwardStatus {
    const failed = this.lastCheck !== undefined && !this.lastCheck.ok;
    return {
      id: this.id,
      kind: 'local',
      bindAddress: this.ctx.bindAddress,
      port: this.port,
      targetHost: this.spec.targetHost,
      targetPort: this.spec.targetPort,
      state: this.port === 0 ? 'pending' : connected && !failed ? 'up' : 'down',
      lastSeen: this.lastSeen?.toISOString(),
      lastCheck: this.lastCheck,
      activeConnections: this.active,
    };
  }

  /** Dials the listener and proves the target answers through the proxy. Records the result; never throws. */
  async check(timeoutMs: number): Promise<boolean> {
    const probe = this.spec.probe ?? { kind: 'connect' };
    const socket = net.connect({ host: this.ctx.bindAddress, port: this.port });
    let timer: NodeJS.Timeout | undefined;
    let localPort: number | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([
        deadline,
        (async () => {
          await new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('error', reject);
          });
          localPort = socket.localPort;
          // The accept handler reports when its channel to the target opened (or why it did not).
          const opened = new Promise<void>((resolve, reject) => {
            if (localPort === undefined) return reject(new Error('no local port'));
            const outcome = this.early.get(localPort);
            if (outcome !== undefined) return outcome ? reject(outcome) : resolve();
            this.checks.set(localPort, (error) => (error ? reject(error) : resolve()));
          });
          await opened;
          await probeDuplex(socket, probe, this.spec.targetHost, timeoutMs);
        })(),
      ]);
      this.record(true);
      return true;
    } catch (error) {
      this.record(false, (error as Error).message);
      return false;
    } finally {
      clearTimeout(timer);
      if (localPort !== undefined) this.checks.delete(localPort);
      socket.destroy();
    }
  }

  /** Closes the listener and every connection it carries. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.ctx.logger.info({ proxy: this.ctx.proxyId, forward: this.id }, 'local forward closed');
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const srcPort = socket.remotePort ?? 0;
    const srcIP = socket.remoteAddress ?? '127.0.0.1';
    const report = (error?: Error) => {
      const waiter = this.checks.get(srcPort);
      this.checks.delete(srcPort);
      if (waiter) return waiter(error);
      this.early.set(srcPort, error ?? null);
      setTimeout(() => this.early.delete(srcPort), 10_000).unref();
    };
    let settled = false;
    const onEarlyError = (error: Error) => {
      if (!settled) report(error);
    };
    socket.on('error', onEarlyError);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!settled) report(new Error('client closed before the channel opened'));
    });
    this.ctx
      .waitForClient(this.ctx.acceptWaitMs ?? 10_000)
      .then((client) => this.openChannel(client, srcIP, srcPort))
      .then(
        (channel) => {
          settled = true;
          if (socket.destroyed) {
            channel.destroy();
            return;
          }
          this.active += 1;
          this.lastSeen = new Date();
          report();
          pipeDuplex(socket, channel, () => {
            this.active -= 1;
          });
        },
        (error: Error) => {
          settled = true;
          report(error);
          this.ctx.logger.warn(
            { proxy: this.ctx.proxyId, forward: this.id, error: error.message },
            'local forward could not reach target',
          );
          socket.destroy();
        },
      );
  }

  private openChannel(client: Client, srcIP: string, srcPort: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      client.forwardOut(srcIP, srcPort, this.spec.targetHost, this.spec.targetPort, (error, channel) => {
        if (error)
          reject(
            new Error(`channel to ${this.spec.targetHost}:${this.spec.targetPort} refused: ${error.message}`),
          );
        else resolve(channel);
      });
    });
  }

  private record(ok: boolean, error?: string): void {
    const at = new Date();
    this.lastCheck = { at: at.toISOString(), ok, error };
    if (ok) this.lastSeen = at;
  }
}
