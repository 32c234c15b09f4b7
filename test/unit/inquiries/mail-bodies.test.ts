import { describe, expect, it } from 'vitest';
import { confirmationMail, escapeHtml, subjectLine, supportMail, type InquiryMailFields } from '../../../server/inquiries/mail-bodies.js';

const row: InquiryMailFields = {
  id: 17,
  userId: null,
  name: '<i>Mallory</i>',
  email: 'mallory@example.test',
  phone: null,
  category: 'report',
  message: '<script>steal()</script>\n& more',
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
};

describe('escapeHtml', () => {
  it('turns the five HTML-significant characters into entities', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('leaves other text, including non-Latin and already-escaped-looking text, readable', () => {
    expect(escapeHtml('주문 42 — Größe M')).toBe('주문 42 — Größe M');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml('')).toBe('');
  });
});

describe('subjectLine', () => {
  it('keeps a subject on one line so user text cannot add headers', () => {
    expect(subjectLine('Hi\r\nBcc: victim@example.test\nX: y')).toBe('Hi Bcc: victim@example.test X: y');
    expect(subjectLine('a\u2028b\u0000c\td')).toBe('a bc d');
  });

  it('shortens a very long subject', () => {
    const s = subjectLine('x'.repeat(500));
    expect([...s]).toHaveLength(200);
    expect(s.endsWith('…')).toBe(true);
  });
});

describe('the inquiry mails', () => {
  it('sends support every field, with the customer as Reply-To, and escapes them in HTML', () => {
    const mail = supportMail(row, { from: 'no-reply@reuse.test', to: 'support@reuse.test' });
    expect(mail).toMatchObject({ to: 'support@reuse.test', replyTo: 'mallory@example.test' });
    expect(mail.subject).toBe('[Inquiry #17] report: <i>Mallory</i>');
    for (const field of ['#17', '2026-01-02T03:04:05.678Z', 'mallory@example.test', '(not given)', 'report', '(anonymous)']) {
      expect(mail.text).toContain(field);
      expect(mail.html).toContain(field);
    }
    expect(mail.text).toContain('<script>steal()</script>\n& more');
    expect(mail.html).toContain('&lt;script&gt;steal()&lt;/script&gt;\n&amp; more');
    expect(mail.html).toContain('&lt;i&gt;Mallory&lt;/i&gt;');
    expect(mail.html).not.toMatch(/<script|<i>/);
  });

  it('confirms to the customer with the reference number, replies going to support', () => {
    const mail = confirmationMail(row, { from: 'no-reply@reuse.test', replyTo: 'support@reuse.test' });
    expect(mail).toMatchObject({ to: 'mallory@example.test', replyTo: 'support@reuse.test', subject: 'We received your inquiry #17' });
    expect(mail.text).toContain('<script>steal()</script>');
    expect(mail.html).not.toMatch(/<script|<i>/);
  });
});
