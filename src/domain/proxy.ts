import { z } from 'zod';
import { addressSchema, ipSchema } from './address-schema.ts';
import { cidrSchema } from './cidr-schema.ts';
import { nameSchema } from './name.ts';
import { portSchema } from './port.ts';
import { hostKeySchema } from './ssh-key-line.ts';

/** An SSH proxy node: reachable from the control plane, inside the VPC it serves. */
export interface Proxy {
  id: string;
  project: string;
  /** Address the control plane dials. */
  publicAddress: string;
  sshPort: number;
  /** The proxy's address inside its VPC: where remote forwards bind for the VPC's agents. */
  vpcAddress: string;
  /** Networks (CIDRs) whose hosts this proxy carries. */
  networks: string[];
  /** Login user on the proxy. Default `cloudroot`. */
  user: string;
  /** Pinned host key, `type base64`. */
  hostKey?: string;
  /** The last uplink self-test of a prepare-proxy job: the proxy is prepared when it passed. */
  selfTest?: ProxySelfTestRecord;
}

/** The outcome of a proxy's last uplink self-test, as recorded on the proxy. */
export interface ProxySelfTestRecord {
  at: string;
  ok: boolean;
  /** Where the test's remote forward listened on the proxy. */
  bindAddress?: string;
  port?: number;
  ms?: number;
  /** Why it failed. */
  detail?: string;
}

/** A recorded self-test, as prepare-proxy stores it on the proxy. */
export const selfTestSchema = z.strictObject({
  at: z.iso.datetime(),
  ok: z.boolean(),
  bindAddress: ipSchema.optional(),
  port: portSchema.optional(),
  ms: z.number().min(0).optional(),
  detail: z.string().max(500).optional(),
});

/** What a client may send to create a proxy. */
export const proxyInputSchema = z.strictObject({
  id: nameSchema,
  project: nameSchema,
  publicAddress: addressSchema,
  sshPort: portSchema.default(22),
  vpcAddress: ipSchema,
  networks: z.array(cidrSchema).min(1, 'expected at least one network').max(64),
  user: nameSchema.default('cloudroot'),
  hostKey: hostKeySchema.optional(),
});

/** Fields of a proxy that may change after creation; `null` removes an optional one. */
export const proxyPatchSchema = z.strictObject({
  publicAddress: addressSchema.optional(),
  sshPort: portSchema.optional(),
  vpcAddress: ipSchema.optional(),
  networks: z.array(cidrSchema).min(1).max(64).optional(),
  user: nameSchema.optional(),
  hostKey: hostKeySchema.nullable().optional(),
  selfTest: selfTestSchema.nullable().optional(),
});

export type ProxyPatch = z.output<typeof proxyPatchSchema>;
