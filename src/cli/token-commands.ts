import { Command, Option } from 'commander';
import type { TokenRecord } from '../domain/token.ts';
import { TOKEN_ROLES } from '../domain/token-roles.ts';
import type { ApiClient } from './api-client.ts';
import { formatTime } from './format-time.ts';
import { printRows } from './print-rows.ts';

/**
 * `outpost token create|list|revoke`: API tokens scoped to a project (or `*`) with a role. The token is
 * printed once, alone on stdout, so `$(outpost token create ...)` captures it; the server keeps its hash.
 */
export function tokenCommand(client: () => ApiClient): Command {
  const token = new Command('token').description('API tokens: scoped to a project, with a role');
  token
    .command('create')
    .description('create a token; it is printed this once (to stdout), then only its hash is kept')
    .requiredOption('--name <name>', 'who or what uses it (ci, alice)')
    .addOption(new Option('--role <role>', 'what it may do').choices([...TOKEN_ROLES]).makeOptionMandatory())
    .requiredOption('--project <id>', 'the project it is for, or * for every project')
    .option('--expires <duration>', 'how long it works: 30d, 12h, 90m, 45s (default: until revoked)')
    .option('--json', 'print its record and the token as JSON')
    .action(
      async (opts: { name: string; role: string; project: string; expires?: string; json?: boolean }) => {
        const created = await client().request<TokenRecord & { token: string }>('POST', '/v1/tokens', {
          name: opts.name,
          role: opts.role,
          scope: opts.project,
          ...(opts.expires ? { expiresIn: opts.expires } : {}),
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${created.token}\n`);
        process.stderr.write(
          `outpost: token ${created.id} (${created.name}, ${created.role} of ${describeScope(created.scope)}${created.expiresAt ? `, until ${formatTime(created.expiresAt)}` : ''}) created; it is shown this once\n`,
        );
      },
    );
  token
    .command('list')
    .description('list live tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const tokens = await client().request<TokenRecord[]>('GET', '/v1/tokens');
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
        return;
      }
      printRows(
        tokens.map((one) => ({
          id: one.id,
          name: one.name,
          project: one.scope,
          role: one.role,
          created: formatTime(one.createdAt),
          expires: one.expiresAt ? formatTime(one.expiresAt) : 'never',
          createdBy: one.createdBy.name,
        })),
        ['id', 'name', 'project', 'role', 'created', 'expires', 'createdBy'],
        false,
      );
    });
  token
    .command('revoke <id>')
    .description('revoke a token at once: its requests, console sessions and live streams end')
    .action(async (id: string) => {
      await client().request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      process.stderr.write(`outpost: token ${id} revoked\n`);
    });
  return token;
}

function describeScope(scope: string): string {
  return scope === '*' ? 'every project' : `project ${scope}`;
}
