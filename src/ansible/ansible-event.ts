import { z } from 'zod';

const base = { v: z.literal(1), counter: z.number().int().min(1), time: z.string() };
const hostStatus = z.enum(['ok', 'changed', 'failed', 'skipped', 'unreachable']);
const hostCounts = z.object({
  ok: z.number().int(),
  changed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  unreachable: z.number().int(),
  rescued: z.number().int(),
  ignored: z.number().int(),
});

/** The events the callback plugin writes on fd 3 (playbooks/callback_plugins/outpost_events.py); unknown extra fields are kept. */
export const ansibleEventSchema = z.discriminatedUnion('event', [
  z.looseObject({ ...base, event: z.literal('playbook_start'), playbook: z.string() }),
  z.looseObject({ ...base, event: z.literal('play_start'), play: z.string(), hosts: z.array(z.string()) }),
  z.looseObject({
    ...base,
    event: z.literal('task_start'),
    task: z.string(),
    task_id: z.string(),
    action: z.string(),
    play: z.string(),
    is_handler: z.boolean(),
  }),
  z.looseObject({
    ...base,
    event: z.literal('host_result'),
    host: z.string(),
    task: z.string(),
    task_id: z.string(),
    action: z.string(),
    status: hostStatus,
    duration_ms: z.number(),
    msg: z.string().optional(),
    ignore_errors: z.boolean().optional(),
    rc: z.number().int().optional(),
  }),
  z.looseObject({
    ...base,
    event: z.literal('item_result'),
    host: z.string(),
    task: z.string(),
    task_id: z.string(),
    status: hostStatus,
    item: z.string(),
    msg: z.string().optional(),
  }),
  z.looseObject({ ...base, event: z.literal('warning'), msg: z.string() }),
  z.looseObject({ ...base, event: z.literal('deprecation'), msg: z.string() }),
  z.looseObject({ ...base, event: z.literal('recap'), hosts: z.record(z.string(), hostCounts) }),
  z.looseObject({ ...base, event: z.literal('playbook_end'), success: z.boolean() }),
]);

/** One event of a run, as written by `playbooks/callback_plugins/outpost_events.py`. */
export type AnsibleEvent = z.infer<typeof ansibleEventSchema>;

/** A host's counts from the recap event. */
export type HostCounts = z.infer<typeof hostCounts>;
