import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ValidationError, quote } from '../errors.ts';

/** Absolute paths of one generated inventory. */
export interface InventoryPaths {
  dir: string;
  hostsFile: string;
  sshConfig: string;
  knownHosts: string;
  keysDir: string;
  projectKey: string;
  adminKey: string;
  /** Directory of ssh ControlMaster sockets for proxy connections. */
  controlDir: string;
}

// Only characters that need no quoting in ssh_config, ansible_ssh_common_args (shlex) or YAML.
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;
// A unix socket path must fit in 108 bytes, and ssh binds `<controlDir>/<40 hex of %C>.<16 random>` first.
const MAX_CONTROL_DIR = 45;

/** Paths inside `dir` (made absolute); refuses a directory whose path would need quoting anywhere. */
export function inventoryPaths(dir: string): InventoryPaths {
  const root = path.resolve(dir);
  if (!SAFE_PATH.test(root)) {
    throw new ValidationError(
      'dir',
      `inventory directory must use only A-Z a-z 0-9 . _ / -, got ${quote(root)}`,
    );
  }
  const local = path.join(root, 'cp');
  const controlDir =
    local.length <= MAX_CONTROL_DIR
      ? local
      : path.join(tmpdir(), `outpost-cp-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`);
  if (!SAFE_PATH.test(controlDir))
    throw new ValidationError('dir', `temporary directory path needs quoting: ${quote(controlDir)}`);
  const keysDir = path.join(root, 'keys');
  return {
    dir: root,
    hostsFile: path.join(root, 'hosts.yml'),
    sshConfig: path.join(root, 'ssh_config'),
    knownHosts: path.join(root, 'known_hosts'),
    keysDir,
    projectKey: path.join(keysDir, 'project'),
    adminKey: path.join(keysDir, 'admin'),
    controlDir,
  };
}

/** The control-socket dir when it lies outside the inventory (a long path's fallback under /tmp): its owner removes it. */
export function externalControlDir(paths: Pick<InventoryPaths, 'dir' | 'controlDir'>): string | undefined {
  return paths.controlDir.startsWith(paths.dir + path.sep) ? undefined : paths.controlDir;
}
