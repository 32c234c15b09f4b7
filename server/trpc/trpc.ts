/**
 * initTRPC, once. Exports only the procedures we allow: public, protected (signed in) and
 * admin. No transformer: plain JSON, so that clients in any language can call it.
 * ChatErrors from the pipeline become tRPC errors with the matching code (a MySQL outage:
 * SERVICE_UNAVAILABLE, answered 503 with Retry-After by http.ts); zod's field errors
 * are returned flattened so a form can show them next to its fields.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { z, ZodError } from 'zod';
import { isUnavailable } from '../db/availability.js';
import { ChatError, chatErrorCodes, type ChatErrorCode } from '../shared/errors.js';
import type { Context } from './context.js';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

const codeOf: Record<ChatErrorCode, TRPCError['code']> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

const mapChatErrors = t.middleware(async function mapChatErrors(opts) {
  const result = await opts.next();
  if (!result.ok && result.error.cause instanceof ChatError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: codeOf[cause.code], message: cause.message, cause });
  }
  // procedures that reach MySQL outside the chat pipeline (inquiries): an outage is 503 too
  if (!result.ok && isUnavailable(result.error.cause)) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: chatErrorCodes.UNAVAILABLE, cause: result.error.cause });
  }
  return result;
});

const isAuthed = t.middleware(function isAuthed(opts) {
  const { user } = opts.ctx;
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in, or send Authorization: Bearer <jwt>' });
  return opts.next({ ctx: { ...opts.ctx, user } });
});

const isAdmin = t.middleware(function isAdmin(opts) {
  const { user } = opts.ctx;
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in, or send Authorization: Bearer <jwt>' });
  if (user.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'administrators only' });
  return opts.next({ ctx: { ...opts.ctx, user } });
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapChatErrors);
export const protectedProcedure = publicProcedure.use(isAuthed);
export const adminProcedure = publicProcedure.use(isAdmin);
