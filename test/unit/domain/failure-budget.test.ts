import { describe, expect, it } from 'vitest';
import {
  allowedFailures,
  describeBudgetExceeded,
  FAILURE_BUDGET_PATTERN,
  isBudgetExceeded,
} from '../../../src/domain/failure-budget.ts';

describe('failure budget', () => {
  it('is exceeded by the failure past the count: a budget of 1 by the second failing host', () => {
    expect(isBudgetExceeded(1, 1, 10)).toBe(false);
    expect(isBudgetExceeded(1, 2, 10)).toBe(true);
    expect(isBudgetExceeded(0, 1, 10)).toBe(true);
  });

  it('takes a percentage of the job’s hosts, rounded down', () => {
    expect(allowedFailures('10%', 200)).toBe(20);
    expect(allowedFailures('10%', 19)).toBe(1);
    expect(allowedFailures('2.5%', 200)).toBe(5);
    expect(isBudgetExceeded('10%', 20, 200)).toBe(false);
    expect(isBudgetExceeded('10%', 21, 200)).toBe(true);
  });

  it('allows every failure when the job has none', () => {
    expect(isBudgetExceeded(undefined, 50, 50)).toBe(false);
  });

  it('says how many of how many hosts failed', () => {
    expect(describeBudgetExceeded(2, 4)).toBe('failure budget exceeded (2 of 4 hosts)');
  });

  it('accepts counts and percentages up to 100%, nothing else', () => {
    for (const good of ['0', '3', '10%', '2.5%', '100%'])
      expect(FAILURE_BUDGET_PATTERN.test(good), good).toBe(true);
    for (const bad of ['half', '-1', '101%', '10 %', '%', '1e3', ''])
      expect(FAILURE_BUDGET_PATTERN.test(bad), bad).toBe(false);
  });
});
