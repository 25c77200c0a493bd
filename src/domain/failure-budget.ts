/**
 * How many hosts of a job may fail before the rest is not started: a count (`3`) or a share of the
 * job's hosts (`"10%"`), as the job's `options.maxFailures` gives it.
 */
export type FailureBudget = number | `${number}%`;

/** The text forms a budget takes: a whole count, or a percentage of at most 100 with up to 2 decimals. */
export const FAILURE_BUDGET_PATTERN = /^(\d{1,6}|(100|\d{1,2})(\.\d{1,2})?%)$/;

/** The failures a job of `total` hosts may have; `undefined` (no budget) allows them all. */
export function allowedFailures(budget: FailureBudget | undefined, total: number): number {
  if (budget === undefined) return total;
  if (typeof budget === 'number') return budget;
  return Math.floor((total * Number(budget.slice(0, -1))) / 100);
}

/** Whether `failed` hosts of `total` are past the budget (`maxFailures: 1` is exceeded by the second). */
export function isBudgetExceeded(budget: FailureBudget | undefined, failed: number, total: number): boolean {
  return budget !== undefined && failed > allowedFailures(budget, total);
}

/** The reason a job ends with when its budget ran out. */
export function describeBudgetExceeded(failed: number, total: number): string {
  return `failure budget exceeded (${failed} of ${total} hosts)`;
}
