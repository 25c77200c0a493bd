import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ValidationError } from '../errors.ts';
import type { JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { describeOutcome } from './describe-outcome.ts';
import { exitCodeOf, followAndPrint } from './job-commands.ts';

interface CredentialOptions {
  user?: string;
  passwordStdin?: boolean;
  passwordFile?: string;
  keyFile?: string;
  keyPassphraseFile?: string;
}

interface LoginOptions extends CredentialOptions {
  project?: string;
  follow?: boolean;
  json?: boolean;
  timeout?: number;
  connectTimeout?: number;
}

/** The job options of the common flags: `--timeout` (whole job) and `--connect-timeout` (each way to a host). */
function limitOptions(opts: LoginOptions): Record<string, number> {
  return {
    ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}),
    ...(opts.connectTimeout !== undefined ? { connectTimeoutSeconds: opts.connectTimeout } : {}),
  };
}

/** `--timeout` and `--connect-timeout`, whole seconds. */
export function withLimits(command: Command, connect: boolean): Command {
  command.option(
    '--timeout <seconds>',
    "the job's time limit (default: the kind's base plus a share per host)",
    wholeSeconds,
  );
  if (connect)
    command.option(
      '--connect-timeout <seconds>',
      'how long each way to a host (direct, jump, forward) may take to connect (default 3)',
      wholeSeconds,
    );
  return command;
}

function wholeSeconds(value: string): number {
  if (!/^[1-9]\d{0,6}$/.test(value)) throw new InvalidArgumentError('expected whole seconds (1 or more)');
  return Number(value);
}

/**
 * `outpost enroll`, `outpost probe`, `outpost prepare-proxy` and `outpost enroll-script`: the login
 * jobs through the API. A password is never an argument (it would show in `ps`): it comes from
 * stdin, a file, or OUTPOST_ENROLL_PASSWORD.
 */
export function loginCommands(
  client: () => ApiClient,
  setExit: (code: number) => void,
  env: Record<string, string | undefined>,
): Command[] {
  const submit = async (body: Record<string, unknown>, opts: LoginOptions): Promise<void> => {
    const job = await client().request<JobRecord>('POST', '/v1/jobs', body);
    process.stderr.write(`outpost: job ${job.id} ${job.status}\n`);
    if (!opts.follow) {
      if (opts.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
      return;
    }
    setExit(await followAndPrint(client(), job.id, job.status));
    const ended = await client().request<JobRecord>('GET', `/v1/jobs/${job.id}`);
    if (opts.json) process.stdout.write(`${JSON.stringify(ended, null, 2)}\n`);
    else printOutcome(ended);
    setExit(exitCodeOf(ended.status));
  };

  const enroll = withLimits(
    withCredentials(
      new Command('enroll')
        .description('create the cloudroot login on hosts (and proxies) with an existing account, given once')
        .argument('<names...>', 'host (or proxy) ids'),
    ),
    true,
  ).action(async (names: string[], opts: LoginOptions) => {
    const options = limitOptions(opts);
    await submit(
      {
        kind: 'enroll',
        hosts: names,
        ...(opts.project ? { project: opts.project } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
        credentials: await readCredentials(opts, env, true),
      },
      opts,
    );
  });

  const prepare = withLimits(
    withCredentials(
      new Command('prepare-proxy')
        .description(
          'make proxies ready (enroll them when credentials are given, configure sshd, self-test a remote forward)',
        )
        .argument('[proxies...]', 'proxy ids (default: every proxy of --project)'),
    ),
    false,
  ).action(async (names: string[], opts: LoginOptions) => {
    const credentials = await readCredentials(opts, env, false);
    const options = limitOptions(opts);
    await submit(
      {
        kind: 'prepare-proxy',
        ...(names.length > 0 ? { hosts: names } : {}),
        ...(opts.project ? { project: opts.project } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
        ...(credentials ? { credentials } : {}),
      },
      opts,
    );
  });

  const probe = withLimits(new Command('probe'), true)
    .description('try every way to log in to hosts as cloudroot; record reach, host key and facts')
    .argument('[hosts...]', 'host ids (default: every host of --project)')
    .option('--project <id>', 'project')
    .addOption(
      new Option('--enrolled-by <way>', 'record how cloudroot was set up (the enrollment script)').choices([
        'script',
      ]),
    )
    .option('-f, --follow', 'follow the job to its end and print each host’s ways')
    .option('--json', 'print the job as JSON')
    .action(async (names: string[], opts: LoginOptions & { enrolledBy?: 'script' }) => {
      const options = { ...limitOptions(opts), ...(opts.enrolledBy ? { enrolledBy: opts.enrolledBy } : {}) };
      await submit(
        {
          kind: 'probe',
          ...(names.length > 0 ? { hosts: names } : {}),
          ...(opts.project ? { project: opts.project } : {}),
          ...(Object.keys(options).length > 0 ? { options } : {}),
        },
        opts,
      );
    });

  const script = new Command('enroll-script')
    .description("print the project's enrollment script (run it as root on a VM, then `outpost probe`)")
    .argument('<project>', 'project id')
    .action(async (project: string) => {
      process.stdout.write(
        await client().request<string>('GET', `/v1/projects/${encodeURIComponent(project)}/enroll-script`),
      );
    });
  return [enroll, prepare, probe, script];
}

function withCredentials(command: Command): Command {
  return command
    .option('--project <id>', 'project')
    .option('--user <name>', 'existing account to log in with (default root)')
    .option('--password-stdin', "read the account's password from stdin (with --key-file: sudo's password)")
    .option('--password-file <file>', "read the account's password from a file")
    .option('--key-file <file>', "the account's private key (OpenSSH or PEM)")
    .option('--key-passphrase-file <file>', "the passphrase of --key-file's key, when it is encrypted")
    .option('-f, --follow', 'follow the job to its end and print each target’s outcome')
    .option('--json', 'print the job as JSON');
}

/** The credentials of the options; OUTPOST_ENROLL_PASSWORD when no other source of a password is given. */
async function readCredentials(
  opts: CredentialOptions,
  env: Record<string, string | undefined>,
  required: boolean,
): Promise<Record<string, string> | undefined> {
  let password: string | undefined;
  if (opts.passwordStdin) password = (await readStdin()).replace(/\r?\n$/, '');
  else if (opts.passwordFile) password = (await readFile(opts.passwordFile, 'utf8')).replace(/\r?\n$/, '');
  else if (env.OUTPOST_ENROLL_PASSWORD) password = env.OUTPOST_ENROLL_PASSWORD;
  const privateKey = opts.keyFile ? await readFile(opts.keyFile, 'utf8') : undefined;
  const passphrase = opts.keyPassphraseFile
    ? (await readFile(opts.keyPassphraseFile, 'utf8')).replace(/\r?\n$/, '')
    : undefined;
  if (passphrase !== undefined && !privateKey)
    throw new ValidationError('--key-passphrase-file', 'only with --key-file');
  if (!password && !privateKey) {
    if (!required) return undefined;
    throw new ValidationError(
      'credentials',
      'give --password-stdin, --password-file, --key-file or OUTPOST_ENROLL_PASSWORD (or use `outpost enroll-script` and then `outpost probe --enrolled-by script`)',
    );
  }
  return {
    ...(opts.user ? { user: opts.user } : {}),
    ...(password ? { password } : {}),
    ...(privateKey ? { privateKey } : {}),
    ...(passphrase ? { passphrase } : {}),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line per target: enrolled / reach / self-test, or why not. */
function printOutcome(job: JobRecord): void {
  for (const [id, line] of Object.entries(job.result ?? {}))
    process.stdout.write(`${id}: ${describeOutcome(line)}\n`);
}
