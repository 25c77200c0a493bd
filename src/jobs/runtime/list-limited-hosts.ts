import { execa } from 'execa';
import { buildCommand } from '../../ansible/build-command.ts';
import { AppError } from '../../errors.ts';

/**
 * The hosts of `inventory` that the Ansible host pattern `limit` selects, as Ansible itself reads it
 * (`ansible all --list-hosts --limit`), so a job can act on them before its play. The pattern is
 * checked as every limit is (buildCommand).
 */
export async function listLimitedHosts(rootDir: string, inventory: string, limit: string): Promise<string[]> {
  const { env } = buildCommand({ rootDir, playbook: 'unused.yml', inventory, limit });
  const result = await execa('ansible', ['all', '-i', inventory, '--list-hosts', '--limit', limit], {
    cwd: rootDir,
    env,
    reject: false,
    timeout: 60_000,
  });
  if (result.exitCode !== 0)
    throw new AppError(
      'limit_failed',
      `ansible could not list the hosts of --limit ${JSON.stringify(limit)}: ${String(result.stderr).trim().split('\n').slice(-2).join('; ')}`,
    );
  // "  hosts (2):" then one indented name per line.
  return String(result.stdout)
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
