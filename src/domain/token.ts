import { z } from 'zod';
import { nameSchema } from './name.ts';
import { TOKEN_ROLES } from './token-roles.ts';

export { TOKEN_ROLES };

/** Token ids: `tok-` and 12 hex digits; shown in lists and the audit trail, never secret. */
export const TOKEN_ID_PATTERN = /^tok-[0-9a-f]{12}$/;

/** A token as stored and listed: everything but its secret. */
export interface TokenRecord {
  id: string;
  /** For people: who or what uses it (`ci`, `alice`). */
  name: string;
  /** `*` (every project) or one project id. */
  scope: string;
  role: (typeof TOKEN_ROLES)[number];
  createdAt: string;
  /** When it stops working; absent: never. */
  expiresAt?: string;
  /** The token that created it. */
  createdBy: { tokenId: string; name: string };
}

const DURATION = /^([1-9][0-9]{0,5})([smhd])$/;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_SECONDS = 3650 * 86_400;

/** Seconds of a duration such as `30d`, `12h`, `90m` or `45s`; undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * (SECONDS[match[2]] ?? 0);
}

/** What a client sends to create a token (`POST /v1/tokens`). */
export const tokenInputSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/,
      'expected 1 to 64 of A-Z a-z 0-9 space . _ @ -, starting with a letter or digit',
    )
    .describe('Who or what uses the token; shown in lists and the audit trail.'),
  scope: z
    .union([z.literal('*'), nameSchema])
    .describe('`*` for every project (only a `*` admin may create one), else one project id.'),
  role: z.enum(TOKEN_ROLES),
  expiresIn: z
    .string()
    .refine((text) => {
      const seconds = parseDuration(text);
      return seconds !== undefined && seconds <= MAX_SECONDS;
    }, 'expected a duration such as 30d, 12h, 90m or 45s, at most 3650d')
    .optional()
    .describe('How long the token works (`30d`, `12h`, `90m`, `45s`); without it, until revoked.'),
});

export type TokenInput = z.output<typeof tokenInputSchema>;
