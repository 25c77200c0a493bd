import { z } from 'zod';
import { addressSchema } from './address-schema.ts';
import { looksLikeCidr, parseCidr } from './cidr.ts';
import { NAME_PATTERN, nameSchema } from './name.ts';
import { portSchema } from './port.ts';
import { hostKeySchema } from './ssh-key-line.ts';
import { TELEGRAF_VERSION_PATTERN, TELEGRAF_VERSION_RULE } from './telegraf-version.ts';

/** How SSH gets to a host: straight, ProxyJump through its proxy, or a local forward held by Outpost. */
export type Reach = 'direct' | 'jump' | 'forward';

/** Whether Outpost can log in as cloudroot, and how that was set up. */
export interface HostLogin {
  state: 'unknown' | 'enrolled' | 'failed';
  way?: 'password' | 'key' | 'script';
  at?: string;
  /** Why the last enrollment failed (its first error). */
  reason?: string;
}

/** Why a way of reaching a host did not work. */
export const WAY_FAILURES = [
  'refused',
  'timeout',
  'no-route',
  'auth-failed',
  'host-key-changed',
  'no-proxy',
  'not-available',
  'error',
] as const;
export type WayFailure = (typeof WAY_FAILURES)[number];

/** The outcome of one way (direct, jump, forward) of a probe: ok, or why not in words and a code. */
export interface WayResult {
  ok: boolean;
  reason?: WayFailure;
  /** What ssh or the tunnel keeper said, for a person; names the proxy when the proxy failed. */
  detail?: string;
}

/** The last probe of a host: per way whether cloudroot could log in, the way chosen, the key pinned. */
export interface HostProbe {
  at: string;
  ways: Partial<Record<Reach, WayResult>>;
  /** The way that worked (becomes the host's reach); absent when none did. */
  reach?: Reach;
  /** The host key pinned when the probe ended. */
  hostKey?: string;
}

/**
 * States of a host's agent: `reporting-old-config` sends points, but of another configuration than the
 * last deploy wanted; `silent` reported, then stopped (the watch found no recent point).
 */
export const AGENT_STATES = [
  'none',
  'deployed',
  'reporting',
  'reporting-old-config',
  'not-reporting',
  'silent',
  'removed',
] as const;

/**
 * Why a silent agent's points stopped, as the watch found it: checked in this order, the first that holds
 * wins (a proxy that is down also makes its VMs unreachable, so the proxy is named, not the VM).
 */
export const SILENT_CAUSES = [
  'influx-down',
  'tunnel-down',
  'proxy-unreachable',
  'vm-unreachable',
  'agent-not-running',
  'unknown',
] as const;
export type SilentCause = (typeof SILENT_CAUSES)[number];

/** The monitoring agent's state on a host, as the last deploy (or removal) proved it. */
export interface HostAgent {
  state: (typeof AGENT_STATES)[number];
  uplink?: 'direct' | 'proxy';
  lastSeen?: string;
  /** The configuration id (tag `outpost_config`) the agent's points carried when last seen. */
  config?: string;
  /** Why it is not reporting this configuration (the last deploy's failure, what was checked). */
  reason?: string;
  /** When the watch last saw it change between reporting and silent (ISO-8601). */
  since?: string;
  /** Why it went silent, as a code (see SILENT_CAUSES); set with state `silent` only. */
  cause?: SilentCause;
  /** The Telegraf version installed, as the last deploy found or left it. */
  version?: string;
}

/** A VM to monitor. */
export interface Host {
  id: string;
  project: string;
  address: string;
  sshPort: number;
  /** A CIDR (matched against proxies' networks) or a plain label. */
  network?: string;
  /** Explicit proxy id; wins over network matching. */
  proxy?: string;
  reach?: Reach;
  /** Pinned host key, `type base64`. */
  hostKey?: string;
  login: HostLogin;
  agent: HostAgent;
  /**
   * What the last probe found: `os` (distribution and version) and `family` (Ansible's os_family:
   * Debian, RedHat...), `arch`, `python`. `interpreter` (the Python that ran its modules) becomes the host's
   * ansible_python_interpreter in generated inventories: no interpreter discovery round trip per run,
   * and no silent fallback to /usr/bin/python when discovery's connection fails.
   */
  facts?: { os?: string; family?: string; arch?: string; python?: string; interpreter?: string };
  probe?: HostProbe;
}

const reachSchema = z.enum(['direct', 'jump', 'forward']);
/** A network is a CIDR when it has a '/', else a label following the name rules. */
export const networkSchema = z
  .string()
  .refine(
    (text) => (looksLikeCidr(text) ? parseCidr(text) !== undefined : NAME_PATTERN.test(text)),
    'expected a CIDR with no host bits set (e.g. 198.51.100.0/26) or a network name',
  );
const timeSchema = z.iso.datetime();
const factSchema = z.string().regex(/^[A-Za-z0-9 ._+()/-]{1,100}$/, 'expected up to 100 plain characters');
/** An interpreter path reaches a remote shell command line: absolute, no spaces or shell characters. */
export const INTERPRETER_PATH = /^\/[A-Za-z0-9._+/-]{1,200}$/;
const interpreterSchema = z
  .string()
  .regex(INTERPRETER_PATH, 'expected an absolute path of A-Z a-z 0-9 . _ + / -');
// Free text shown to people (ssh's words): one line, printable, bounded.
const detailSchema = z
  .string()
  .max(500)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'expected one line of printable text');
const wayResultSchema = z.strictObject({
  ok: z.boolean(),
  reason: z.enum(WAY_FAILURES).optional(),
  detail: detailSchema.optional(),
});
/** A probe record as stored on a host. */
export const hostProbeSchema = z.strictObject({
  at: timeSchema,
  ways: z.strictObject({
    direct: wayResultSchema.optional(),
    jump: wayResultSchema.optional(),
    forward: wayResultSchema.optional(),
  }),
  reach: reachSchema.optional(),
  hostKey: hostKeySchema.optional(),
});

/** What a client may send to create a host. */
export const hostInputSchema = z.strictObject({
  id: nameSchema,
  project: nameSchema,
  address: addressSchema,
  sshPort: portSchema.default(22),
  network: networkSchema.optional(),
  proxy: nameSchema.optional(),
  reach: reachSchema.optional(),
  hostKey: hostKeySchema.optional(),
});

/** Fields of a host that may change; `null` removes an optional one. */
export const hostPatchSchema = z.strictObject({
  address: addressSchema.optional(),
  sshPort: portSchema.optional(),
  network: networkSchema.nullable().optional(),
  proxy: nameSchema.nullable().optional(),
  reach: reachSchema.nullable().optional(),
  hostKey: hostKeySchema.nullable().optional(),
  login: z
    .strictObject({
      state: z.enum(['unknown', 'enrolled', 'failed']),
      way: z.enum(['password', 'key', 'script']).optional(),
      at: timeSchema.optional(),
      reason: detailSchema.optional(),
    })
    .optional(),
  agent: z
    .strictObject({
      state: z.enum(AGENT_STATES),
      uplink: z.enum(['direct', 'proxy']).optional(),
      lastSeen: timeSchema.optional(),
      config: z
        .string()
        .regex(/^[0-9a-f]{1,64}$/, 'expected a configuration id of hex digits')
        .optional(),
      reason: z.string().max(500).optional(),
      since: timeSchema.optional(),
      cause: z.enum(SILENT_CAUSES).optional(),
      version: z.string().regex(TELEGRAF_VERSION_PATTERN, TELEGRAF_VERSION_RULE).optional(),
    })
    .optional(),
  facts: z
    .strictObject({
      os: factSchema.optional(),
      family: factSchema.optional(),
      arch: factSchema.optional(),
      python: factSchema.optional(),
      interpreter: interpreterSchema.optional(),
    })
    .optional(),
  probe: hostProbeSchema.nullable().optional(),
});

export type HostInput = z.output<typeof hostInputSchema>;
export type HostPatch = z.output<typeof hostPatchSchema>;
