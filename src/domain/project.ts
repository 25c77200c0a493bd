import { z } from 'zod';
import { nameSchema } from './name.ts';
import { publicKeySchema } from './ssh-key-line.ts';

/** A tenant: owns hosts, proxies and a project keypair. */
export interface Project {
  id: string;
  createdAt: string;
  /** Both go into every cloudroot authorized_keys of the project. */
  publicKeys: { admin: string; project: string };
}

/** What a client may send to create a project; public keys are generated when omitted. */
export const projectInputSchema = z.strictObject({
  id: nameSchema,
  publicKeys: z.strictObject({ admin: publicKeySchema, project: publicKeySchema }).optional(),
});

export type ProjectInput = z.output<typeof projectInputSchema>;
