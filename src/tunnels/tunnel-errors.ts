import { AppError } from '../errors.ts';

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
