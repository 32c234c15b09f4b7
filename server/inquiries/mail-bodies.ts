/** The two mails of an inquiry (to support, and the customer's copy), as text and HTML. */
import type { InquiryRow } from '../db/types.js';
import type { OutgoingMail } from '../mail/transport.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** a subject built from user text: one line (no header injection), not endless */
export function subjectLine(text: string, max = 200): string {
  const line = text.replace(/[\r\n\t\u2028\u2029]+/g, ' ').replace(/\p{Cc}/gu, '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** the fields of a stored inquiry, as both mails show them */
export type InquiryMailFields = Pick<InquiryRow, 'id' | 'userId' | 'name' | 'email' | 'phone' | 'category' | 'message' | 'createdAt'>;

function fieldList(row: InquiryMailFields): Array<[string, string]> {
  return [
    ['Inquiry', `#${row.id}`],
    ['Received', row.createdAt.toISOString()],
    ['Name', row.name],
    ['Email', row.email],
    ['Phone', row.phone ?? '(not given)'],
    ['Category', row.category ?? '(not given)'],
  ];
}

function htmlDocument(intro: string, fields: Array<[string, string]>, message: string, outro: string): string {
  const rows = fields
    .map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  return [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<p>${escapeHtml(intro)}</p>`,
    `<table>\n${rows}\n</table>`,
    `<pre style="white-space:pre-wrap;font-family:inherit;border-left:3px solid #ccc;padding-left:1em">${escapeHtml(message)}</pre>`,
    `<p>${escapeHtml(outro)}</p>`,
    '</body></html>',
  ].join('\n');
}

function textDocument(intro: string, fields: Array<[string, string]>, message: string, outro: string): string {
  return [intro, '', ...fields.map(([k, v]) => `${k}: ${v}`), '', 'Message:', message, '', outro, ''].join('\n');
}

/** the mail to support; replying to it answers the customer */
export function supportMail(row: InquiryMailFields, to: { from: string; to: string }): OutgoingMail {
  const fields: Array<[string, string]> = [...fieldList(row), ['Signed-in user', row.userId ?? '(anonymous)']];
  const intro = 'A new inquiry arrived through Re:Use Chat.';
  const outro = 'Reply to this mail to answer the customer.';
  return {
    from: to.from,
    to: to.to,
    replyTo: row.email,
    subject: subjectLine(`[Inquiry #${row.id}] ${row.category ?? 'general'}: ${row.name}`),
    text: textDocument(intro, fields, row.message, outro),
    html: htmlDocument(intro, fields, row.message, outro),
  };
}

/** the customer's copy, with the reference support will quote */
export function confirmationMail(row: InquiryMailFields, opts: { from: string; replyTo: string }): OutgoingMail {
  const intro = `Hello ${row.name}, thank you for contacting Re:Use. We received your inquiry and will answer by email.`;
  const outro = `Please quote #${row.id} if you write to us about it.`;
  const fields = fieldList(row);
  return {
    from: opts.from,
    to: row.email,
    replyTo: opts.replyTo,
    subject: subjectLine(`We received your inquiry #${row.id}`),
    text: textDocument(intro, fields, row.message, outro),
    html: htmlDocument(intro, fields, row.message, outro),
  };
}
