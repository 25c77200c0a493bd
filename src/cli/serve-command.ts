import { Command, Option } from 'commander';
import type { Role } from '../app/create-services.ts';

/** Options of `outpost serve`. */
export interface ServeOptions {
  roles: Role[];
}

/** `outpost serve [--role api|worker|tunnels ...]`: every role when none is given. */
export function serveCommand(serve: (options: ServeOptions) => Promise<void>): Command {
  return new Command('serve')
    .description('run the service: HTTP API, job worker and tunnel keeper (all three unless --role is given)')
    .addOption(new Option('--role <role...>', 'roles of this process').choices(['api', 'worker', 'tunnels']))
    .action(async (opts: { role?: Role[] }) => {
      await serve({ roles: opts.role?.length ? opts.role : ['api', 'worker', 'tunnels'] });
    });
}
