// Apart from token.ts (its zod schemas) so the CLI's option choices load no zod (its start-up time).

/** The roles a token can have, weakest first (the HTTP layer's Principal uses the same words). */
export const TOKEN_ROLES = ['viewer', 'operator', 'admin'] as const;
