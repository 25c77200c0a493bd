import { AppError } from '../errors.ts';

/** The proxy presented a host key other than the pinned one: never retried until the record changes. */
export class HostKeyMismatchError extends AppError {
  constructor(proxy: string, address: string, presented: string) {
    super(
      'host_key_mismatch',
      `proxy ${JSON.stringify(proxy)} at ${address} presented host key ${presented}, which is not its pinned key; ` +
        `if the proxy was rebuilt on purpose, record its new key in the proxy's hostKey`,
      { status: 502, details: { proxy, address, presented } },
    );
  }
}

/** A proxy or forward could not be brought up in time; the keeper keeps trying in the background. */
export class TunnelUnavailableError extends AppError {
  constructor(proxy: string, message: string, cause?: unknown) {
    super('tunnel_unavailable', `proxy ${JSON.stringify(proxy)}: ${message}`, {
      status: 503,
      cause,
      details: { proxy },
    });
  }
}
