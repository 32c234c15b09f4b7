import { describe, expect, it } from 'vitest';
import { inquiryInput } from '../../../server/inquiries/validation.js';

const valid = { name: 'Jiwoo', email: 'jiwoo@example.test', message: 'Where is my order?' };

function problems(input: unknown): string[] {
  const r = inquiryInput.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
}

describe('the inquiry form', () => {
  it('accepts the required fields alone and trims them', () => {
    expect(inquiryInput.parse({ name: '  Jiwoo ', email: ' jiwoo@example.test ', message: '\n hello \n' })).toEqual({
      name: 'Jiwoo',
      email: 'jiwoo@example.test',
      message: 'hello',
    });
  });

  it('accepts a phone with digits, spaces, +, - and parentheses, and any short category', () => {
    const parsed = inquiryInput.parse({ ...valid, phone: '+82 (10) 1234-5678', category: 'payment' });
    expect(parsed).toMatchObject({ phone: '+82 (10) 1234-5678', category: 'payment' });
    expect(inquiryInput.parse({ ...valid, category: '배송 문의' }).category).toBe('배송 문의');
  });

  it('treats blank or null optional fields as not given', () => {
    const parsed = inquiryInput.parse({ ...valid, phone: '  ', category: null });
    expect(parsed.phone).toBeUndefined();
    expect(parsed.category).toBeUndefined();
  });

  it('refuses missing, blank or over-long required fields', () => {
    expect(problems({ email: valid.email, message: valid.message })).toEqual(['name']);
    expect(problems({ ...valid, name: '   ' })).toEqual(['name']);
    expect(problems({ ...valid, name: 'n'.repeat(101) })).toEqual(['name']);
    expect(problems({ ...valid, message: ' \n ' })).toEqual(['message']);
    expect(problems({ ...valid, message: 'm'.repeat(5001) })).toEqual(['message']);
    expect(problems({ ...valid, message: 'm'.repeat(5000) })).toEqual([]);
  });

  it('refuses an email that is not an address or longer than 191 characters', () => {
    expect(problems({ ...valid, email: 'not-an-email' })).toEqual(['email']);
    expect(problems({ ...valid, email: `${'a'.repeat(185)}@ex.test` })).toEqual(['email']);
  });

  it('refuses a phone with letters or over 40 characters, and a category over 50', () => {
    expect(problems({ ...valid, phone: '010-CALL-ME' })).toEqual(['phone']);
    expect(problems({ ...valid, phone: '1'.repeat(41) })).toEqual(['phone']);
    expect(problems({ ...valid, phone: '+-()' })).toEqual(['phone']);
    expect(problems({ ...valid, category: 'c'.repeat(51) })).toEqual(['category']);
  });

  it('refuses line breaks in single-line fields, which would reach mail headers', () => {
    expect(problems({ ...valid, name: 'Eve\r\nBcc: victim@example.test' })).toEqual(['name']);
    expect(problems({ ...valid, category: 'order\nX-Injected: 1' })).toEqual(['category']);
    expect(problems({ ...valid, message: 'line one\nline two' })).toEqual([]);
  });
});
