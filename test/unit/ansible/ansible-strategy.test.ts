import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStrategy, strategyEnv } from '../../../src/ansible/ansible-strategy.ts';

describe('resolveStrategy', () => {
  it("finds mitogen's plugin directory, refuses a mitogen strategy without one, and needs none for Ansible's own", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-strategy-'));
    try {
      await writeFile(path.join(dir, 'mitogen_linear.py'), '');
      expect(resolveStrategy('mitogen_linear', ['/nonexistent', dir])).toEqual({
        name: 'mitogen_linear',
        pluginDir: dir,
      });
      expect(resolveStrategy('mitogen_free', [dir])).toBeUndefined();
      expect(resolveStrategy('free', [])).toEqual({ name: 'free' });
      expect(strategyEnv({ name: 'mitogen_linear', pluginDir: dir })).toEqual({
        ANSIBLE_STRATEGY: 'mitogen_linear',
        ANSIBLE_STRATEGY_PLUGINS: dir,
      });
      expect(strategyEnv({ name: 'linear' })).toEqual({ ANSIBLE_STRATEGY: 'linear' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
