import { isHostname, parseIp } from '../domain/address.ts';
import { isName } from '../domain/name.ts';
import { parseSshKeyLine } from '../domain/ssh-key-line.ts';
import { ValidationError, quote } from '../errors.ts';
import type { ForwardProbe, LocalForwardSpec, RemoteForwardSpec, TunnelProxy } from './tunnel-types.ts';

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~\-/?=&%]{0,200}$/;

/** Checks the proxy fields the keeper uses; throws a ValidationError naming the field. */
export function validateTunnelProxy(proxy: TunnelProxy): TunnelProxy {
  if (!isName(proxy.id)) throw new ValidationError('proxy.id', `not a valid name: ${quote(proxy.id)}`);
  checkAddress('proxy.publicAddress', proxy.publicAddress);
  checkAddress('proxy.vpcAddress', proxy.vpcAddress);
  checkPort('proxy.sshPort', proxy.sshPort, 1);
  if (!USER.test(String(proxy.user)))
    throw new ValidationError('proxy.user', `not a valid user name: ${quote(proxy.user)}`);
  if (proxy.hostKey !== undefined) parseHostKey('proxy.hostKey', proxy.hostKey);
  return proxy;
}

/** Checks a local forward request; throws a ValidationError naming the field. */
export function validateLocalForwardSpec(spec: LocalForwardSpec): LocalForwardSpec {
  checkAddress('targetHost', spec.targetHost);
  checkPort('targetPort', spec.targetPort, 1);
  if (spec.probe !== undefined) checkProbe(spec.probe);
  return spec;
}

/** Checks a remote forward request; throws a ValidationError naming the field. */
export function validateRemoteForwardSpec(spec: RemoteForwardSpec): RemoteForwardSpec {
  if (spec.bindAddress !== undefined) checkAddress('bindAddress', spec.bindAddress);
  if (spec.bindPort !== undefined) checkPort('bindPort', spec.bindPort, 0);
  checkAddress('targetHost', spec.targetHost);
  checkPort('targetPort', spec.targetPort, 1);
  if (spec.probe !== undefined) checkProbe(spec.probe);
  return spec;
}

/** The key blob of a pinned host key line (domain/ssh-key-line.ts rules); throws naming the field. */
export function parseHostKey(field: string, line: string): { type: string; blob: Buffer } {
  const key = parseSshKeyLine(String(line));
  if (!key)
    throw new ValidationError(
      field,
      `not an OpenSSH public key line (a type, then a base64 key of that type): ${quote(line)}`,
    );
  return { type: key.type, blob: Buffer.from(key.blob, 'base64') };
}

function checkAddress(field: string, value: unknown): void {
  if (typeof value !== 'string' || (parseIp(value) === undefined && !isHostname(value))) {
    throw new ValidationError(field, `not an IP address or host name: ${quote(value)}`);
  }
}

function checkPort(field: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65535) {
    throw new ValidationError(field, `expected a port from ${min} to 65535, got ${quote(value)}`);
  }
}

function checkProbe(probe: ForwardProbe): void {
  if (probe.kind === 'http') {
    if (!HTTP_PATH.test(String(probe.path)))
      throw new ValidationError('probe.path', `not a safe HTTP path: ${quote(probe.path)}`);
  } else if (probe.kind !== 'connect' && probe.kind !== 'banner') {
    throw new ValidationError(
      'probe.kind',
      `expected connect, banner or http, got ${quote((probe as { kind: unknown }).kind)}`,
    );
  }
}
