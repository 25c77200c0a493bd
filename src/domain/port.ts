import { z } from 'zod';

/** Zod schema for a TCP port, 1 to 65535. */
export const portSchema = z
  .number()
  .int('expected a whole number')
  .min(1, 'expected 1 to 65535')
  .max(65535, 'expected 1 to 65535');
