/** One rolling batch size: a host count (`5`) or a share of the job's hosts (`"25%"`). */
export type SerialStep = number | `${number}%`;

/** The text form of a step: a whole count from 1, or a percentage from 1 to 100. */
export const SERIAL_STEP_PATTERN = /^([1-9]\d{0,5}|([1-9]\d?|100)%)$/;

/**
 * Splits `total` hosts into rolling batches the way Ansible's `serial` does: each step is a count or a
 * share of the total (at least 1 host), the last step repeats until every host has a batch.
 */
export function splitSerial(total: number, steps: readonly SerialStep[]): number[] {
  const sizes: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i += 1) {
    const step = steps[Math.min(i, steps.length - 1)] ?? '100%';
    const size =
      typeof step === 'number' ? step : Math.max(1, Math.floor((total * Number(step.slice(0, -1))) / 100));
    sizes.push(Math.min(size, left));
    left -= Math.min(size, left);
  }
  return sizes;
}

/** Reads `5%,25%,100%` (a CLI flag) into steps; throws a RangeError naming the bad step. */
export function parseSerial(text: string): SerialStep[] {
  return text.split(',').map((raw) => {
    const step = raw.trim();
    if (!SERIAL_STEP_PATTERN.test(step))
      throw new RangeError(
        `expected counts or percentages separated by commas (e.g. 5%,25%,100%), got ${JSON.stringify(step)}`,
      );
    return step.endsWith('%') ? (step as `${number}%`) : Number(step);
  });
}
