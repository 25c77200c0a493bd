import type { Logger } from 'pino';

/** What was started, stopped in the reverse order: one list for a normal stop and for a failed start. */
export class ShutdownStack {
  readonly #steps: { name: string; stop: () => Promise<unknown> }[] = [];

  /** Records how to stop something that just started. */
  push(name: string, stop: () => Promise<unknown>): void {
    this.#steps.push({ name, stop });
  }

  /** Stops everything, last started first; a step that fails is logged and the others still run. */
  async unwind(logger: Logger): Promise<void> {
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.stop();
      } catch (error) {
        logger.error({ err: error, step: step.name }, 'stop step failed');
      }
    }
  }
}
