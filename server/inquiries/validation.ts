/**
 * The zod schema of `inquiries.create`: the fields of the Spring service's inquiry form, checked
 * at the tRPC edge so that InquiryService can trust its input. Limits match the `inquiries`
 * columns (varchar lengths count characters; zod counts UTF-16 units, which is never fewer).
 */
import { z } from 'zod';

export const MAX_INQUIRY_MESSAGE_CHARS = 5000;

/**
 * The categories the web form offers. Any other short text is accepted too: the Spring service's
 * form let clients send their own labels, and refusing them would break those clients; support
 * reads the category, nothing routes on it.
 */
export const INQUIRY_CATEGORIES = ['order', 'payment', 'account', 'report', 'other'] as const;

// single-line fields end up in mail headers and subjects: no control characters at all
const CONTROL = /\p{Cc}/u;
const singleLine = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), `${field} must be a single line of text`);

/** an optional form field: absent, null or blank all mean "not given" */
const optional = <T extends z.ZodType<string, string>>(schema: T) =>
  z.preprocess((v) => (v == null || (typeof v === 'string' && v.trim() === '') ? undefined : v), schema.optional()).optional();

export const inquiryInput = z.object({
  name: singleLine('name', 100),
  email: z
    .string({ error: 'email must be a string' })
    .trim()
    .max(191, 'email must be at most 191 characters')
    .pipe(z.email('email must be a valid address')),
  phone: optional(
    singleLine('phone', 40)
      .refine((s) => /^[0-9 +()-]+$/.test(s), 'phone may hold digits, spaces, +, - and parentheses only')
      .refine((s) => /\d/.test(s), 'phone must contain digits'),
  ),
  category: optional(singleLine('category', 50)),
  message: z
    .string({ error: 'message must be a string' })
    .trim()
    .min(1, 'message must not be empty')
    .max(MAX_INQUIRY_MESSAGE_CHARS, `message must be at most ${MAX_INQUIRY_MESSAGE_CHARS} characters`),
});

export type InquiryInput = z.output<typeof inquiryInput>;
