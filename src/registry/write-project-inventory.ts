import type { LocalForward } from '../inventory/resolve-routes.ts';
import { renderInventory, type RenderedInventory } from '../inventory/render-inventory.ts';
import { writeInventory, type WrittenInventory } from '../inventory/write-inventory.ts';
import type { HostKeyPolicy } from '../inventory/build-ssh-config.ts';
import type { KeyStore } from '../secrets/key-store.ts';
import type { Registry } from './registry.ts';

/**
 * Writes one project's inventory from the live registry into `dir` (`<rootDir>/inventories/<project>`
 * or a job's run dir): all its hosts and proxies, its private key (0600), pinned host keys.
 * Throws NotFoundError when the project or its key does not exist.
 */
export async function writeProjectInventory(
  source: { registry: Registry; keys: KeyStore },
  project: string,
  dir: string,
  options: {
    forwards?: Map<string, LocalForward>;
    hostKeyPolicy?: HostKeyPolicy;
    withAdminKey?: boolean;
  } = {},
): Promise<WrittenInventory> {
  await source.registry.getProject(project);
  const privateKey = await source.keys.projectPrivateKey(project);
  return writeInventory({
    dir,
    project,
    hosts: await source.registry.listHosts({ project }),
    proxies: await source.registry.listProxies({ project }),
    keys: {
      project: privateKey,
      ...(options.withAdminKey ? { admin: await source.keys.adminPrivateKey() } : {}),
    },
    forwards: options.forwards,
    hostKeyPolicy: options.hostKeyPolicy,
  });
}

/**
 * Renders one project's inventory for a directory elsewhere (a client's), writing nothing here: the
 * project's hosts, proxies, pinned keys and its own private key only.
 */
export async function renderProjectInventory(
  source: { registry: Registry; keys: KeyStore },
  project: string,
  dir: string,
): Promise<RenderedInventory> {
  await source.registry.getProject(project);
  return renderInventory({
    dir,
    project,
    hosts: await source.registry.listHosts({ project }),
    proxies: await source.registry.listProxies({ project }),
    keys: { project: await source.keys.projectPrivateKey(project) },
  });
}
