/** The parsers of the user service's account events: what is applied, what is skipped. */
import { describe, expect, it } from 'vitest';
import { parseUserDelete, parseUserUpdate } from '../../../server/bus/account-events.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('parseUserDelete', () => {
  it('reads the email of a JSON object', () => {
    expect(parseUserDelete(b('{"email":"alice@example.com"}'))).toEqual({ email: 'alice@example.com' });
  });

  it('ignores other fields of the object', () => {
    expect(parseUserDelete(b('{"email":"alice@example.com","deletedAt":"2024-01-01T00:00:00Z","id":7}'))).toEqual({
      email: 'alice@example.com',
    });
  });

  it('reads a bare email string', () => {
    expect(parseUserDelete(b('bob@example.com'))).toEqual({ email: 'bob@example.com' });
  });

  it('reads a JSON-quoted email string', () => {
    expect(parseUserDelete(b('"carol@example.com"'))).toEqual({ email: 'carol@example.com' });
  });

  it('trims surrounding whitespace and newlines', () => {
    expect(parseUserDelete(b('  dave@example.com\n'))).toEqual({ email: 'dave@example.com' });
    expect(parseUserDelete(b('{"email":" erin@example.com "}'))).toEqual({ email: 'erin@example.com' });
  });

  it('keeps the case of the address, because ids are compared byte for byte', () => {
    expect(parseUserDelete(b('Frank@Example.com'))).toEqual({ email: 'Frank@Example.com' });
  });

  it('refuses an empty or missing value', () => {
    expect(parseUserDelete(null)).toBeNull();
    expect(parseUserDelete(b(''))).toBeNull();
    expect(parseUserDelete(b('   '))).toBeNull();
  });

  it('refuses garbage, broken JSON and objects without an email', () => {
    expect(parseUserDelete(b('{not json'))).toBeNull();
    expect(parseUserDelete(b('"unterminated@example.com'))).toBeNull();
    expect(parseUserDelete(b('{"mail":"alice@example.com"}'))).toBeNull();
    expect(parseUserDelete(b('{"email":42}'))).toBeNull();
    expect(parseUserDelete(b('["alice@example.com"]'))).toBeNull();
    expect(parseUserDelete(b('null'))).toBeNull();
    expect(parseUserDelete(b('\u0000\u0001\u0002'))).toBeNull();
  });

  it('refuses something that is not an address', () => {
    expect(parseUserDelete(b('alice'))).toBeNull();
    expect(parseUserDelete(b('alice @example.com'))).toBeNull();
    expect(parseUserDelete(b('a@b@c'))).toBeNull();
    expect(parseUserDelete(b(`${'x'.repeat(200)}@example.com`))).toBeNull();
  });
});

describe('parseUserUpdate', () => {
  it('reads the old and the new email', () => {
    expect(parseUserUpdate(b('{"oldEmail":"old@example.com","newEmail":"new@example.com"}'))).toEqual({
      oldEmail: 'old@example.com',
      newEmail: 'new@example.com',
    });
  });

  it('ignores other fields', () => {
    expect(parseUserUpdate(b('{"oldEmail":"old@example.com","newEmail":"new@example.com","name":"N"}'))).toEqual({
      oldEmail: 'old@example.com',
      newEmail: 'new@example.com',
    });
  });

  it('refuses an update missing either address or with a non-address', () => {
    expect(parseUserUpdate(b('{"oldEmail":"old@example.com"}'))).toBeNull();
    expect(parseUserUpdate(b('{"newEmail":"new@example.com"}'))).toBeNull();
    expect(parseUserUpdate(b('{"oldEmail":"old@example.com","newEmail":"not an address"}'))).toBeNull();
    expect(parseUserUpdate(b('{"oldEmail":null,"newEmail":"new@example.com"}'))).toBeNull();
  });

  it('refuses garbage, bare strings and empty values', () => {
    expect(parseUserUpdate(null)).toBeNull();
    expect(parseUserUpdate(b(''))).toBeNull();
    expect(parseUserUpdate(b('{oldEmail: old@example.com}'))).toBeNull();
    expect(parseUserUpdate(b('old@example.com'))).toBeNull();
    expect(parseUserUpdate(b('"old@example.com"'))).toBeNull();
  });
});
