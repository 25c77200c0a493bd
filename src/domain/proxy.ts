import { z } from 'zod';
import { addressSchema, ipSchema } from './address.ts';
import { cidrSchema } from './cidr.ts';
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
}

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
});

export type ProxyPatch = z.output<typeof proxyPatchSchema>;
