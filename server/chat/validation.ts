/** zod schemas of what clients send into the chat pipeline, shared by every transport. */
import { z } from 'zod';

export const MAX_CONTENT_CHARS = 2000;

export const roomId = z.string().uuid('roomId must be a room UUID');
/** the pattern `roomId` checks, for the hot SEND path (zod's own, so both accept the same ids) */
const ROOM_ID_PATTERN = z.regexes.uuid();

export function isRoomId(value: string): boolean {
  return ROOM_ID_PATTERN.test(value);
}
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

export const MAX_ATTACHMENTS = 4;

/** upload ids (POST /api/uploads) of photos the message carries */
export const attachments = z
  .array(z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be an upload id returned by POST /api/uploads'), {
    error: 'attachments must be an array of upload ids',
  })
  .max(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} photos per message`)
  .refine((ids) => new Set(ids).size === ids.length, 'the same photo is listed twice');

/** content of a message that may carry photos: it may then be empty */
const optionalContent = z
  .string({ error: 'content must be a string' })
  .transform((s) => s.trim())
  .refine((s) => [...s].length <= MAX_CONTENT_CHARS, `content must be at most ${MAX_CONTENT_CHARS} characters`);

/** content + attachments: a message needs text, photos, or both */
function contentAndPhotos(
  b: { text: unknown; attachments?: string[] | null | undefined },
  ctx: z.RefinementCtx,
): { content: string; attachments: string[] } | null {
  const photos = b.attachments ?? [];
  const parsed = (photos.length > 0 ? optionalContent : content).safeParse(b.text ?? (photos.length > 0 ? '' : undefined));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['content'] });
    return z.NEVER;
  }
  return { content: parsed.data, attachments: photos };
}

/** the body of a message SEND; `message` is accepted as an alias of `content` (Spring clients) */
export const messageBody = z
  .object({
    content: z.unknown().optional(),
    message: z.unknown().optional(),
    clientMsgId: clientMsgId.nullish(),
    attachments: attachments.nullish(),
  })
  .transform((b, ctx) => {
    const r = contentAndPhotos({ text: b.content ?? b.message, attachments: b.attachments }, ctx);
    if (!r) return z.NEVER;
    return { ...r, clientMsgId: b.clientMsgId ?? null };
  });

/** Socket.IO `message:send` */
export const sendMessageInput = z
  .object({ roomId, content: z.unknown().optional(), clientMsgId: clientMsgId.nullish(), attachments: attachments.nullish() })
  .transform((b, ctx) => {
    const r = contentAndPhotos({ text: b.content, attachments: b.attachments }, ctx);
    if (!r) return z.NEVER;
    return { roomId: b.roomId, ...r, clientMsgId: b.clientMsgId ?? null };
  });

export type MessageBody = z.output<typeof messageBody>;

/**
 * `messageBody` for the well-formed case, checked by hand: every SEND passes here, and zod's
 * object and transform steps allocate per call. Returns null for anything it does not accept
 * outright; the caller then runs `messageBody`, which words the error (or accepts what this
 * declines to judge, e.g. content over MAX_CONTENT_CHARS UTF-16 units but not code points).
 */
export function quickMessageBody(body: unknown): MessageBody | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as { content?: unknown; message?: unknown; clientMsgId?: unknown; attachments?: unknown };
  // photos are checked by messageBody
  if (b.attachments !== undefined && b.attachments !== null) return null;
  const raw = b.content ?? b.message;
  if (typeof raw !== 'string') return null;
  const id = b.clientMsgId;
  if (id !== undefined && id !== null && (typeof id !== 'string' || id.length === 0 || id.length > 64)) return null;
  const text = raw.trim();
  // at most MAX_CONTENT_CHARS UTF-16 units is at most as many code points
  if (text.length === 0 || text.length > MAX_CONTENT_CHARS) return null;
  return { content: text, clientMsgId: id ?? null, attachments: [] };
}

export const readBody = z.object({ messageId });

export function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  if (!i) return 'invalid input';
  return i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message;
}
