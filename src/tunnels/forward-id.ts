import type { LocalForwardSpec, RemoteForwardSpec } from './tunnel-types.ts';

/** Status id of a local forward: one listener per target. */
export function localForwardId(spec: LocalForwardSpec): string {
  return `local:${spec.targetHost}:${spec.targetPort}`;
}

/** Status id of a remote forward: its bind address and port, or its target when sshd picks the port. */
export function remoteForwardId(bindAddress: string, spec: RemoteForwardSpec): string {
  return spec.bindPort
    ? `remote:${bindAddress}:${spec.bindPort}`
    : `remote:${bindAddress}:auto-${spec.targetHost}-${spec.targetPort}`;
}
