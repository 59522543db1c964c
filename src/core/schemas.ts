import { z } from 'zod';
import type { EventType } from './event-types.js';

// One zod schema per event type. Objects are loose: OnePush may add fields, and a receiver
// (and our listener) must accept them. Field names follow what providers publish (../shared/EMAIL-EVENTS.md).

/**
 * An address as OnePush reports it: `local@domain`. Internationalised addresses (RFC 6531: `zoë@exämple.com`) are
 * valid, so this is deliberately looser than zod's ASCII-only email check.
 */
const address = z.string().regex(/^[^\s@<>]+@[^\s@<>.][^\s@<>]*$/u, 'not an email address');

const emailData = {
  email_id: z.string().startsWith('em_'),
  message_id: z.string().optional(),
  from: z.string().min(1),
  to: z.array(address).min(1),
  subject: z.string(),
  tags: z.record(z.string(), z.string()).optional(),
};

function envelope<T extends EventType, D extends z.ZodRawShape>(type: T, data: D) {
  return z.looseObject({
    id: z.string().startsWith('evt_'),
    type: z.literal(type),
    created_at: z.iso.datetime({ offset: true }),
    data: z.looseObject({ ...emailData, ...data }),
  });
}

export const emailSentSchema = envelope('email.sent', {});

export const emailDeliveredSchema = envelope('email.delivered', {
  delivery: z.looseObject({
    smtp_response: z.string().min(1),
    mx_host: z.string().min(1),
    tls: z.boolean().optional(),
    attempts: z.number().int().positive().optional(),
  }),
});

export const emailOpenedSchema = envelope('email.opened', {
  open: z.looseObject({
    ip: z.string(),
    user_agent: z.string(),
    first_open: z.boolean().optional(),
    machine_open: z.boolean().optional(),
  }),
});

export const emailClickedSchema = envelope('email.clicked', {
  click: z.looseObject({
    url: z.url(),
    ip: z.string(),
    user_agent: z.string(),
    location: z.enum(['html', 'text']).optional(),
  }),
});

export const emailBouncedSchema = envelope('email.bounced', {
  bounce: z.looseObject({
    type: z.enum(['hard', 'soft']),
    smtp_code: z.number().int().min(200).max(599),
    enhanced_status: z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/),
    diagnostic: z.string(),
    mx_host: z.string().optional(),
    classification: z.string().optional(),
  }),
});

export const emailComplainedSchema = envelope('email.complained', {
  complaint: z.looseObject({
    feedback_type: z.enum(['abuse', 'fraud', 'virus', 'not-spam', 'other']),
    provider: z.string(),
    user_agent: z.string().optional(),
  }),
});

export const emailUnsubscribedSchema = envelope('email.unsubscribed', {
  unsubscribe: z.looseObject({
    method: z.enum(['link', 'list_unsubscribe']),
    list: z.string(),
    origin: z.enum(['recipient', 'customer', 'admin']).optional(),
  }),
});

/** The schema of each type, by name. */
export const eventSchemas = {
  'email.sent': emailSentSchema,
  'email.delivered': emailDeliveredSchema,
  'email.opened': emailOpenedSchema,
  'email.clicked': emailClickedSchema,
  'email.bounced': emailBouncedSchema,
  'email.complained': emailComplainedSchema,
  'email.unsubscribed': emailUnsubscribedSchema,
} as const satisfies Record<EventType, z.ZodType>;

/** Any of the seven events. */
export const onepushEventSchema = z.discriminatedUnion('type', [
  emailSentSchema,
  emailDeliveredSchema,
  emailOpenedSchema,
  emailClickedSchema,
  emailBouncedSchema,
  emailComplainedSchema,
  emailUnsubscribedSchema,
]);

export type EmailSentEvent = z.infer<typeof emailSentSchema>;
export type EmailDeliveredEvent = z.infer<typeof emailDeliveredSchema>;
export type EmailOpenedEvent = z.infer<typeof emailOpenedSchema>;
export type EmailClickedEvent = z.infer<typeof emailClickedSchema>;
export type EmailBouncedEvent = z.infer<typeof emailBouncedSchema>;
export type EmailComplainedEvent = z.infer<typeof emailComplainedSchema>;
export type EmailUnsubscribedEvent = z.infer<typeof emailUnsubscribedSchema>;
/** Any OnePush event, discriminated by `type`. */
export type OnepushEvent = z.infer<typeof onepushEventSchema>;

/** A schema problem, as a path (`data.bounce.type`) and a message. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * Checks an event against its type's schema. Returns the issues (empty when valid); `unknownType` is true when
 * the type is not one of the seven (then only the envelope is not checked further).
 */
export function validateEvent(event: unknown): { unknownType: boolean; issues: SchemaIssue[] } {
  const type = (event as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? (eventSchemas as Record<string, z.ZodType>)[type] : undefined;
  if (!schema) return { unknownType: true, issues: [] };
  const result = schema.safeParse(event);
  if (result.success) return { unknownType: false, issues: [] };
  return {
    unknownType: false,
    issues: result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  };
}
