import { Client } from 'ssh2';
import { ValidationError } from '../errors.ts';
import { computeBackoff, type BackoffOptions } from './compute-backoff.ts';
import { HostKeyChangedError } from '../domain/host-key-changed-error.ts';
import { formatKeyBlob } from '../domain/ssh-key-line.ts';
import { hostKeyMatches } from './host-key-matches.ts';
import { TunnelUnavailableError } from './tunnel-errors.ts';
import type { ProxyStatus, TunnelLogger, TunnelProxy } from './tunnel-types.ts';

/** How one proxy connection is held. */
export interface ProxyConnectionOptions {
  /** Private key (OpenSSH or PEM) of the proxy's login user. Never logged. */
  privateKey: Buffer | string;
  /** Keepalive request period. Default 5000 ms. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection is declared dead. Default 3. */
  keepaliveCountMax?: number;
  /** Limit for TCP connect + SSH handshake + auth. Default 5000 ms. */
  readyTimeoutMs?: number;
  backoff?: BackoffOptions;
  logger: TunnelLogger;
  /** Runs on every ready connection (first and after each reconnect). */
  onReady: (client: Client) => void;
  /** Runs when a ready connection is lost. */
  onDown: (reason: string) => void;
}

type State = ProxyStatus['state'];

/**
 * One SSH connection to a proxy, kept open: keepalives notice a dead peer within
 * interval x (countMax + 1), lost connections are retried with capped exponential backoff and
 * jitter, and a host key other than the pinned one stops it for good (state `failed`).
 */
export class ProxyConnection {
  readonly proxy: TunnelProxy;
  private readonly options: ProxyConnectionOptions;
  private client: Client | undefined;
  private ready = false;
  private state: State = 'connecting';
  private since = new Date();
  private attempts = 0;
  private connects = 0;
  private lastError: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters = new Set<() => void>();

  constructor(proxy: TunnelProxy, options: ProxyConnectionOptions) {
    if (!proxy.hostKey) {
      throw new ValidationError(
        'proxy.hostKey',
        `proxy ${JSON.stringify(proxy.id)} has no pinned host key; probe it first`,
      );
    }
    this.proxy = proxy;
    this.options = options;
    this.connect();
  }

  /** The connected client, or undefined while connecting or backing off. */
  get readyClient(): Client | undefined {
    return this.ready ? this.client : undefined;
  }

  /** Resolves with the ready client; rejects when the connection failed for good, closed, or `timeoutMs` passed. */
  async whenReady(timeoutMs: number): Promise<Client> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.ready && this.client) return this.client;
      if (this.state === 'failed' || this.state === 'closed') throw this.finalError();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TunnelUnavailableError(
          this.proxy.id,
          `not connected after ${timeoutMs} ms${this.lastError ? `: ${this.lastError.message}` : ''}`,
          this.lastError,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  status(): Omit<ProxyStatus, 'forwards'> {
    return {
      proxy: this.proxy.id,
      state: this.state,
      since: this.since.toISOString(),
      attempts: this.attempts,
      connects: this.connects,
      lastError: this.lastError?.message,
    };
  }

  /** Stops reconnecting and closes the connection; resolves once the socket is gone. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    const client = this.client;
    this.setState('closed');
    this.ready = false;
    this.client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.destroy();
        resolve();
      }, 2000);
      client.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      client.end();
    });
  }

  private connect(): void {
    const { proxy, options } = this;
    const client = new Client();
    this.client = client;
    this.setState('connecting');
    let hostKeyError: HostKeyChangedError | undefined;
    let error: Error | undefined;
    let wasReady = false;
    client.on('ready', () => {
      if (this.client !== client) return;
      wasReady = true;
      this.ready = true;
      this.attempts = 0;
      this.connects += 1;
      this.lastError = undefined;
      this.setState('ready');
      options.logger.info({ proxy: proxy.id, connects: this.connects }, 'proxy connection ready');
      options.onReady(client);
    });
    client.on('error', (err: Error) => {
      error = hostKeyError ?? err;
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.ready = false;
      this.lastError = hostKeyError ?? error ?? new Error('connection closed');
      if (wasReady) {
        options.logger.warn({ proxy: proxy.id, reason: this.lastError.message }, 'proxy connection lost');
        options.onDown(this.lastError.message);
      }
      if (hostKeyError) {
        options.logger.error(
          { proxy: proxy.id, error: hostKeyError.message },
          'proxy host key mismatch; not retrying',
        );
        this.setState('failed');
        return;
      }
      const delay = computeBackoff(this.attempts, options.backoff);
      this.attempts += 1;
      options.logger.debug(
        { proxy: proxy.id, attempt: this.attempts, delayMs: delay, reason: this.lastError.message },
        'proxy reconnect scheduled',
      );
      this.setState('backoff');
      this.timer = setTimeout(() => this.connect(), delay);
    });
    client.connect({
      host: proxy.publicAddress,
      port: proxy.sshPort,
      username: proxy.user,
      privateKey: options.privateKey,
      readyTimeout: options.readyTimeoutMs ?? 5000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      hostVerifier: (key: Buffer) => {
        if (hostKeyMatches(proxy.hostKey ?? '', key)) return true;
        hostKeyError = new HostKeyChangedError('proxy', proxy.id, {
          pinned: proxy.hostKey ?? '',
          presented: formatKeyBlob(key),
        });
        return false;
      },
    });
  }

  private setState(state: State): void {
    if (this.state !== state) this.since = new Date();
    this.state = state;
    for (const wake of [...this.waiters]) wake();
  }

  private finalError(): Error {
    if (this.state === 'failed' && this.lastError) return this.lastError;
    return new TunnelUnavailableError(this.proxy.id, 'connection closed');
  }
}
