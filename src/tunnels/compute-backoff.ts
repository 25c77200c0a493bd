/** Reconnect delays: exponential growth, capped, with jitter so many keepers do not retry in step. */
export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  initialMs?: number;
  /** Upper bound of any delay. Default 4000 ms: with a 5 s ready timeout, a proxy that comes back is reached within ~10 s. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Share of the delay that is random, 0..1. Default 0.5 (delay lies in [d/2, d]). */
  jitter?: number;
}

/** The delay before retry number `attempt` (0-based), given a random number in [0, 1). */
export function computeBackoff(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs = 500, maxMs = 4000, factor = 2, jitter = 0.5 } = options;
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt));
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
}
