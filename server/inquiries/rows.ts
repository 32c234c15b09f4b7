/** Inquiry rows as stored, and as the API returns them. */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { inquiries } from '../db/schema.js';
import type { InquiryRow } from '../db/types.js';

export type InquiryStatus = 'pending' | 'sent' | 'failed';

/** an inquiry as the API returns it: ids are decimal strings, times ISO-8601 strings */
export interface InquiryView {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  category: string | null;
  message: string;
  status: InquiryStatus;
  /** delivery attempts made so far (a claim counts even when it did not finish) */
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

export type { InquiryRow };

export async function readInquiry(db: Pick<Db, 'select'>, id: number): Promise<InquiryRow | null> {
  const [row] = await db.select().from(inquiries).where(eq(inquiries.id, id));
  return row ?? null;
}

export function toView(r: InquiryRow): InquiryView {
  return {
    id: String(r.id),
    name: r.name,
    email: r.email,
    phone: r.phone,
    category: r.category,
    message: r.message,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    sentAt: r.sentAt ? r.sentAt.toISOString() : null,
  };
}
