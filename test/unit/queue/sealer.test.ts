import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from '../../../src/queue/sealer.ts';

describe('job credentials sealer', () => {
  const sealer = createSealer(randomBytes(32));
  const credentials = JSON.stringify({ user: 'debian', password: 'hunter2-secret' });

  it('opens a blob for the job it was sealed for', () => {
    const sealed = sealer.seal('job-a', credentials);
    expect(sealed).not.toContain('hunter2');
    expect(sealer.unseal('job-a', sealed).toString('utf8')).toBe(credentials);
  });

  it('refuses a blob copied to another job', () => {
    const sealed = sealer.seal('job-a', credentials);
    expect(() => sealer.unseal('job-b', sealed)).toThrow(/cannot unseal/);
  });
});
