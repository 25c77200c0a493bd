import { z } from 'zod';
import { FAILURE_BUDGET_PATTERN } from '../domain/failure-budget.ts';
import { nameSchema } from '../domain/name.ts';
import { TELEGRAF_VERSION_PATTERN, TELEGRAF_VERSION_RULE } from '../domain/telegraf-version.ts';
import { SERIAL_STEP_PATTERN } from '../domain/serial-batches.ts';
import { SLICED_KINDS } from '../jobs/runtime/plan-slices.ts';
import { explainReservedExtraVar } from '../domain/reserved-extra-var.ts';
import { PLAYBOOK_DIRS, PLAYBOOK_PATTERN } from '../jobs/runtime/resolve-playbook.ts';
import { JOB_KINDS, JOB_STATUSES } from '../queue/job-record.ts';
import { passphraseSchema, selectorNetworkSchema, tagSchema } from './job-input-guards.ts';

/** Entity ids: the registry's name rule (domain/name.ts). */
export const idSchema = nameSchema;

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
// Strings of extra vars are templated by Ansible on the control plane: no Jinja may get in.
const NO_JINJA = /\{\{|\{%|\{#/;

/** An extra-vars value: JSON without Jinja markers, bounded in depth. */
const varValue: z.ZodType = z.lazy(() =>
  z.union([
    z
      .string()
      .max(10_000)
      .refine((s) => !NO_JINJA.test(s), 'templates ({{ }}, {% %}, {# #}) are not allowed'),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(varValue).max(1000),
    z.record(z.string().regex(VAR_NAME, 'not a variable name'), varValue),
  ]),
);

const MAX_VARS_DEPTH = 32;

/** True when arrays and objects nest at most `limit` deep; stops counting there, so no body overflows the stack. */
function nestsWithin(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (limit === 0) return false;
  return Object.values(value).every((inner) => nestsWithin(inner, limit - 1));
}

// Depth is checked first: the recursive schema below would overflow the stack on a hostile nesting.
const extraVars = z
  .unknown()
  .refine((vars) => nestsWithin(vars, MAX_VARS_DEPTH), `nested deeper than ${MAX_VARS_DEPTH} levels`)
  .pipe(z.record(z.string().regex(VAR_NAME, 'not a variable name'), varValue));

/**
 * A host count from `min`, or a share of the job's hosts, as a number or text (`3`, `"3"`, `"10%"`);
 * text counts become numbers.
 */
function countOrShare(min: number, pattern: RegExp, rule: string) {
  return z
    .union([z.number().int().min(min).max(999_999), z.string().regex(pattern, rule)])
    .transform((value): number | `${number}%` =>
      typeof value === 'number' || value.endsWith('%') ? (value as `${number}%`) : Number(value),
    );
}

const failureBudget = countOrShare(
  0,
  FAILURE_BUDGET_PATTERN,
  'expected a count of hosts or a percentage such as "10%"',
);
const serialStep = countOrShare(
  1,
  SERIAL_STEP_PATTERN,
  'expected a host count from 1 or a percentage from 1% to 100%',
);

const jobOptions = z
  .object({
    limit: z
      .string()
      .regex(/^[A-Za-z0-9_.:,*!&\-[\]]{1,1000}$/, 'not a host pattern')
      .refine((s) => !s.startsWith('-'), 'must not start with -')
      .optional(),
    tags: z.array(tagSchema).max(100).optional(),
    skipTags: z.array(tagSchema).max(100).optional(),
    check: z.boolean().optional(),
    diff: z.boolean().optional(),
    verbosity: z.number().int().min(0).max(4).optional(),
    forks: z.number().int().min(1).max(500).optional(),
    extraVars: extraVars.optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional(),
    idleTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .optional(),
    retryUnreachable: z.number().int().min(0).max(10).optional(),
    retryDelaySeconds: z.number().int().min(0).max(3600).optional(),
    enrolledBy: z.enum(['script']).optional(),
    connectTimeoutSeconds: z.number().int().min(1).max(120).optional(),
    abandon: z.boolean().optional(),
    full: z.boolean().optional(),
    safeToRerun: z.boolean().optional(),
    telegrafVersion: z.string().regex(TELEGRAF_VERSION_PATTERN, TELEGRAF_VERSION_RULE).optional(),
    sliceSize: z.number().int().min(1).max(10_000).optional(),
    proxyConcurrency: z.number().int().min(1).max(100).optional(),
    maxFailures: failureBudget.optional(),
    serial: z.array(serialStep).min(1).max(100).optional(),
  })
  .strict();

const credentials = z
  .object({
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'not a user name')
      .optional(),
    password: z.string().min(1).max(1024).optional(),
    privateKey: z.string().min(1).max(16_384).optional(),
    passphrase: passphraseSchema.optional(),
  })
  .strict();

/** Body of `POST /v1/jobs`. */
export const jobInputSchema = z
  .object({
    kind: z.enum(JOB_KINDS),
    project: idSchema.optional(),
    hosts: z.array(idSchema).min(1).max(10_000).optional(),
    selector: z
      .object({
        network: selectorNetworkSchema.optional(),
        proxy: idSchema.optional(),
      })
      .strict()
      .optional(),
    playbook: z
      .string()
      .max(300)
      .regex(PLAYBOOK_PATTERN, 'expected a relative .yml path')
      // Refused at the door, not only when the worker resolves it: no path outside the playbook folders.
      .refine(
        (file) => PLAYBOOK_DIRS.some((dir) => file.startsWith(`${dir}/`)),
        `expected a playbook under ${PLAYBOOK_DIRS.map((dir) => `${dir}/`).join(' or ')}`,
      )
      .optional(),
    options: jobOptions.optional(),
    priority: z.number().int().min(1).max(100).optional(),
    idempotencyKey: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'expected 1 to 128 of A-Z a-z 0-9 . _ : -')
      .optional(),
    credentials: credentials.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.kind === 'run-playbook' && !input.playbook) {
      ctx.addIssue({ code: 'custom', path: ['playbook'], message: 'required for a run-playbook job' });
    }
    if (input.kind !== 'run-playbook' && input.playbook) {
      ctx.addIssue({ code: 'custom', path: ['playbook'], message: `not allowed for a ${input.kind} job` });
    }
    if (input.options?.abandon !== undefined && input.kind !== 'rotate-key')
      ctx.addIssue({ code: 'custom', path: ['options', 'abandon'], message: 'only for a rotate-key job' });
    if (input.options?.full !== undefined && input.kind !== 'deploy-agent')
      ctx.addIssue({ code: 'custom', path: ['options', 'full'], message: 'only for a deploy-agent job' });
    if (input.options?.telegrafVersion !== undefined && input.kind !== 'deploy-agent')
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'telegrafVersion'],
        message: 'only for a deploy-agent job',
      });
    for (const name of ['sliceSize', 'proxyConcurrency', 'maxFailures', 'serial'] as const)
      if (input.options?.[name] !== undefined && !SLICED_KINDS.includes(input.kind))
        ctx.addIssue({
          code: 'custom',
          path: ['options', name],
          message: `only for ${SLICED_KINDS.join(', ')} jobs (they run as slices), not for a ${input.kind} job`,
        });
    if (input.kind === 'rotate-key') {
      if (!input.project)
        ctx.addIssue({ code: 'custom', path: ['project'], message: 'required for a rotate-key job' });
      if (input.hosts || input.selector)
        ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'a rotate-key job is for a whole project' });
      if (input.credentials)
        ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'not allowed for a rotate-key job' });
    }
    if (!input.hosts && !input.selector && !input.project) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'give hosts, a selector or a project' });
    }
    refuseReservedExtraVars(input, ctx);
  });

/** A job's own extra var must not override what Outpost sets (extra vars win over everything in Ansible). */
function refuseReservedExtraVars(
  input: { kind: string; playbook?: string | undefined; options?: { extraVars?: Record<string, unknown> } },
  ctx: z.RefinementCtx,
): void {
  for (const name of Object.keys(input.options?.extraVars ?? {})) {
    const reason = explainReservedExtraVar(input.kind, input.playbook, name);
    if (reason) ctx.addIssue({ code: 'custom', path: ['options', 'extraVars', name], message: reason });
  }
}

/** Query of `GET /v1/jobs`. */
export const jobListQuerySchema = z
  .object({
    status: z.enum(JOB_STATUSES).optional(),
    kind: z.enum(JOB_KINDS).optional(),
    host: idSchema.optional(),
    project: idSchema.optional(),
    parent: idSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

export type JobInput = z.infer<typeof jobInputSchema>;
