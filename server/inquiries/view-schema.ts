/**
 * The zod schema of an inquiry as the API returns it (`InquiryView`). Not used at run time: the
 * published contract (docs/, `npm run docs`) is generated from it, and the type check below keeps
 * it equal to what InquiryService returns.
 */
import { z } from 'zod';
import type { InquiryView } from './service.js';

const isoTime = z.string().datetime({ offset: true });

export const inquiryViewSchema = z.object({
  id: z.string().regex(/^\d+$/),
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  category: z.string().nullable(),
  message: z.string(),
  status: z.enum(['pending', 'sent', 'failed']).describe('pending until mailed to support; failed after the last retry (still stored)'),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  sentAt: isoTime.nullable(),
});

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type InquiryViewSchemaMatches = Assert<Equals<z.infer<typeof inquiryViewSchema>, InquiryView>>;
