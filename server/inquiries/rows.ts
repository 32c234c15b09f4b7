/** Inquiry rows as stored, and as the API returns them. */
import type { Pool, RowDataPacket } from 'mysql2/promise';

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

export interface InquiryRow extends RowDataPacket {
  id: number | string;
  user_id: string | null;
  name: string;
  email: string;
  phone: string | null;
  category: string | null;
  message: string;
  status: InquiryStatus;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

export const SELECT_INQUIRY =
  'SELECT id, user_id, name, email, phone, category, message, status, attempts, last_error, created_at, updated_at, sent_at FROM inquiries';

export async function readInquiry(pool: Pool, id: number | string): Promise<InquiryRow | null> {
  const [rows] = await pool.query<InquiryRow[]>(`${SELECT_INQUIRY} WHERE id = ?`, [id]);
  return rows[0] ?? null;
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
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    sentAt: r.sent_at ? r.sent_at.toISOString() : null,
  };
}
