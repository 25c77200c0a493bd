import path from 'node:path';
import { ValidationError, quote } from '../errors.ts';

/** What to run: one playbook against one inventory, with the pass-through options of ansible-playbook. */
export interface PlaybookRequest {
  /** Repository root: the cwd of the run, where ansible.cfg and playbooks/ live. */
  rootDir: string;
  /** Playbook path, absolute or relative to `rootDir`. */
  playbook: string;
  /** Inventory file (hosts.yml) path. */
  inventory: string;
  /** JSON files of extra vars, each passed as `-e @file`, later ones win. */
  extraVarsFiles?: string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  check?: boolean;
  diff?: boolean;
  /** 0..4: number of `-v`. */
  verbosity?: number;
  /** Forks; default from ansible.cfg. */
  forks?: number;
  /** The file descriptor the callback writes events to. Default 3. */
  eventFd?: number;
}

/** The exact command line and environment of a run. */
export interface PlaybookCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

// Tag and limit patterns: host names, groups, globs, `!` and `&`, `:` and `,` separators; nothing a shell
// or ansible's option parser could take as something else.
const LIMIT = /^[A-Za-z0-9_.:,*!&\-[\]]{1,1000}$/;
const TAG = /^[A-Za-z0-9_-]{1,100}$/;

/** Builds the argv and env of `ansible-playbook`; every value is validated, nothing goes through a shell. */
export function buildCommand(request: PlaybookRequest): PlaybookCommand {
  const eventFd = request.eventFd ?? 3;
  const args: string[] = ['-i', request.inventory];
  for (const file of request.extraVarsFiles ?? []) args.push('-e', `@${file}`);
  if (request.limit !== undefined) {
    if (!LIMIT.test(request.limit) || request.limit.startsWith('-')) {
      throw new ValidationError('options.limit', `not a host pattern: ${quote(request.limit)}`);
    }
    args.push('--limit', request.limit);
  }
  for (const [field, option, tags] of [
    ['options.tags', '--tags', request.tags],
    ['options.skipTags', '--skip-tags', request.skipTags],
  ] as const) {
    if (!tags?.length) continue;
    const bad = tags.find((tag) => !TAG.test(tag));
    if (bad !== undefined) throw new ValidationError(field, `not a tag name: ${quote(bad)}`);
    args.push(option, tags.join(','));
  }
  if (request.check) args.push('--check');
  if (request.diff) args.push('--diff');
  if (request.forks !== undefined) args.push('--forks', String(request.forks));
  const verbosity = request.verbosity ?? 0;
  if (!Number.isInteger(verbosity) || verbosity < 0 || verbosity > 4) {
    throw new ValidationError('options.verbosity', `expected 0 to 4, got ${quote(verbosity)}`);
  }
  if (verbosity > 0) args.push(`-${'v'.repeat(verbosity)}`);
  const playbook = path.resolve(request.rootDir, request.playbook);
  args.push(playbook);
  return { file: 'ansible-playbook', args, env: playbookEnv(request.rootDir, eventFd), cwd: request.rootDir };
}

/**
 * Environment of a run: the repository's ansible.cfg, and the event callback enabled explicitly too so
 * runs emit events even where ansible.cfg does not enable it.
 */
function playbookEnv(rootDir: string, eventFd: number): Record<string, string> {
  return {
    ANSIBLE_CONFIG: path.join(rootDir, 'ansible.cfg'),
    ANSIBLE_CALLBACK_PLUGINS: path.join(rootDir, 'playbooks', 'callback_plugins'),
    ANSIBLE_CALLBACKS_ENABLED: 'outpost_events',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    PYTHONUNBUFFERED: '1',
    // No __pycache__ written beside the repository's plugins (the service's environment is not inherited).
    PYTHONDONTWRITEBYTECODE: '1',
    OUTPOST_EVENT_FD: String(eventFd),
  };
}
