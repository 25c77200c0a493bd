import net from 'node:net';
import { ValidationError, quote } from '../errors.ts';
import type { ForwardProbe, LocalForwardSpec, RemoteForwardSpec, TunnelProxy } from './tunnel-types.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const HTTP_PATH = /^\/[A-Za-z0-9._~\-/?=&%]{0,200}$/;

/** Checks the proxy fields the keeper uses; throws a ValidationError naming the field. */
export function validateTunnelProxy(proxy: TunnelProxy): TunnelProxy {
  if (!NAME.test(String(proxy.id)))
    throw new ValidationError('proxy.id', `not a valid name: ${quote(proxy.id)}`);
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

/**
 * Splits an OpenSSH public key line (`type base64 [comment]`) and returns the key blob; throws when the
 * line is malformed or the blob does not name the same key type.
 */
export function parseHostKey(field: string, line: string): { type: string; blob: Buffer } {
  const match =
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) ([A-Za-z0-9+/]+={0,2})(?: \S.*)?$/.exec(
      String(line).trim(),
    );
  if (!match?.[1] || !match[2])
    throw new ValidationError(field, `not an OpenSSH public key line: ${quote(line)}`);
  const blob = Buffer.from(match[2], 'base64');
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (nameLength < 0 || blob.subarray(4, 4 + nameLength).toString('latin1') !== match[1]) {
    throw new ValidationError(field, `key data does not match its type ${quote(match[1])}`);
  }
  return { type: match[1], blob };
}

function checkAddress(field: string, value: unknown): void {
  if (typeof value !== 'string' || (net.isIP(value) === 0 && !HOSTNAME.test(value))) {
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
