import type { Host } from '../../domain/host.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { splitSerial } from '../../domain/serial-batches.ts';
import type { JobKind, JobRecord } from '../../queue/job-record.ts';
import type { SlicePlan, SliceSpec } from '../../queue/slice-plan.ts';
import type { Registry } from '../../registry/registry.ts';
import { resolveJobHosts } from './create-registry-inventory.ts';

/** Kinds whose work is per host, so any part of their hosts can run on its own. */
export const SLICED_KINDS: readonly JobKind[] = ['deploy-agent', 'remove-agent', 'probe', 'enroll'];

/** Hosts per slice when the job does not say. */
export const DEFAULT_SLICE_SIZE = 50;

/**
 * Plans a job as slices when it is worth it: more hosts than its slice size, more than one proxy, or
 * rolling batches. Hosts are taken in registry order, cut into the `serial` batches, then each batch
 * per proxy and per slice size. Undefined runs the job whole: another kind, a `limit` (Ansible's
 * pattern is read by the play itself), or hosts the job will itself refuse with a clear reason.
 */
export async function planSlices(registry: Registry, job: JobRecord): Promise<SlicePlan | undefined> {
  const options = job.options ?? {};
  if (!SLICED_KINDS.includes(job.kind) || job.parent || options.limit !== undefined) return undefined;
  let hosts: Host[];
  let proxyOf: (host: Host) => string | undefined;
  try {
    const resolved = await resolveJobHosts(registry, job);
    const proxies = await registry.listProxies({ project: resolved.project });
    hosts = resolved.hosts;
    proxyOf = (host) => selectProxy(host, proxies)?.id;
  } catch {
    return undefined;
  }
  const size = options.sliceSize ?? DEFAULT_SLICE_SIZE;
  const ordered = orderByProxy(hosts, proxyOf);
  // Hosts reached directly add no proxy: one proxy and some direct hosts run whole.
  const proxies = new Set(ordered.flatMap((host) => proxyOf(host) ?? []));
  if (hosts.length <= size && proxies.size <= 1 && !options.serial) return undefined;
  const batches: SliceSpec[][] = [];
  let at = 0;
  for (const count of splitSerial(ordered.length, options.serial ?? ['100%'])) {
    batches.push(sliceBatch(ordered.slice(at, at + count), proxyOf, size));
    at += count;
  }
  return { total: hosts.length, batches };
}

/** Hosts grouped by proxy (direct ones last), registry order kept within a group. */
function orderByProxy(hosts: Host[], proxyOf: (host: Host) => string | undefined): Host[] {
  const groups = new Map<string, Host[]>();
  for (const host of hosts) {
    const key = proxyOf(host) ?? '\uffff';
    groups.set(key, [...(groups.get(key) ?? []), host]);
  }
  return [...groups.keys()].sort().flatMap((key) => groups.get(key) ?? []);
}

/** One batch's slices: per proxy, then at most `size` hosts each. */
function sliceBatch(hosts: Host[], proxyOf: (host: Host) => string | undefined, size: number): SliceSpec[] {
  const slices: SliceSpec[] = [];
  for (const host of hosts) {
    const proxy = proxyOf(host);
    const last = slices.at(-1);
    if (last && last.proxy === proxy && last.hosts.length < size) last.hosts.push(host.id);
    else slices.push({ hosts: [host.id], ...(proxy ? { proxy } : {}) });
  }
  return slices;
}
