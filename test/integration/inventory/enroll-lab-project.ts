import type { Lab } from '../../lab/lab.ts';
import { labEntities } from '../../support/lab-entities.ts';
import { api } from '../http/start-outpost.ts';
import { prepareProxySshd } from '../tunnels/prepare-tunnel-lab.ts';
import { createCloudroot } from './reach-lab.ts';

/**
 * Makes a lab ready for agent jobs through a running Outpost at `url`: creates `project`, gives every lab
 * VM a cloudroot trusting the project's admin and project keys, prepares every proxy's sshd as
 * prepare-proxy would, and registers the lab's proxies and hosts (host keys pinned).
 */
export async function enrollLabProject(url: string, lab: Lab, project: string): Promise<void> {
  const created = await api<{ publicKeys: { admin: string; project: string } }>(url, 'POST', '/v1/projects', {
    id: project,
  });
  if (created.status !== 201)
    throw new Error(`POST /v1/projects ${project}: ${created.status} ${JSON.stringify(created.body)}`);
  const keys = [created.body.publicKeys.admin, created.body.publicKeys.project];
  await Promise.all(lab.vms.map((vm) => createCloudroot(lab, vm, keys)));
  await Promise.all(lab.proxies().map((proxy) => prepareProxySshd(lab, proxy)));
  const { proxies, hosts } = labEntities(lab, project);
  for (const [kind, body] of [
    ...proxies.map((entity) => ['proxies', entity] as const),
    ...hosts.map((entity) => ['hosts', entity] as const),
  ]) {
    const added = await api(url, 'POST', `/v1/${kind}`, body);
    if (added.status !== 201)
      throw new Error(`POST /v1/${kind} ${body.id}: ${added.status} ${JSON.stringify(added.body)}`);
  }
}
