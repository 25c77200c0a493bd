import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PreparedInventory } from './job-deps.ts';

/** Writes an inventory of the control plane itself (`localhost`, local connection). */
export async function writeLocalInventory(dir: string): Promise<PreparedInventory> {
  const inventory = path.join(dir, 'hosts.yml');
  const yaml = [
    'all:',
    '  hosts:',
    '    localhost:',
    '      ansible_connection: local',
    '      ansible_python_interpreter: /usr/bin/python3',
    '',
  ].join('\n');
  await writeFile(inventory, yaml, { mode: 0o600 });
  return { inventory, secretFiles: [] };
}
