/** zod schemas of what clients send into the chat pipeline, shared by every transport. */
import { z } from 'zod';

export const MAX_CONTENT_CHARS = 2000;

export const roomId = z.string().uuid('roomId must be a room UUID');
/** message ids travel as decimal strings (numbers are tolerated) */
export const messageId = z
  .union([z.string().regex(/^\d{1,19}$/, 'must be a decimal message id'), z.number().int().nonnegative()])
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v), 'message id out of range');

export const content = z
  .string({ error: 'content must be a string' })
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, 'content must not be empty')
  .refine((s) => [...s].length <= MAX_CONTENT_CHARS, `content must be at most ${MAX_CONTENT_CHARS} characters`);

export const clientMsgId = z.string().min(1).max(64, 'clientMsgId must be at most 64 characters');

/** the body of a message SEND; `message` is accepted as an alias of `content` (Spring clients) */
export const messageBody = z
  .object({
    content: z.unknown().optional(),
    message: z.unknown().optional(),
    clientMsgId: clientMsgId.nullish(),
  })
  .transform((b, ctx) => {
    const parsed = content.safeParse(b.content ?? b.message);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['content'] });
      return z.NEVER;
    }
    return { content: parsed.data, clientMsgId: b.clientMsgId ?? null };
  });

export const readBody = z.object({ messageId });

export function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  if (!i) return 'invalid input';
  return i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message;
}
