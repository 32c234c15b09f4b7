import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../server/http/client-address.js';

const request = (remoteAddress: string, forwarded?: string) =>
  ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('ignores X-Forwarded-For unless the proxy is trusted', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.9'), false)).toBe('127.0.0.1');
  });

  it('behind a trusted proxy takes the last entry, the one the proxy appended', () => {
    expect(clientAddress(request('10.0.0.2', '1.2.3.4, 203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2'), true)).toBe('10.0.0.2');
  });

  it('treats an IPv4-mapped address as the IPv4 address', () => {
    expect(clientAddress(request('::ffff:192.0.2.1'), false)).toBe('192.0.2.1');
  });

  it('counts IPv6 clients by their /64, so one host cannot rotate through its own addresses', () => {
    expect(clientAddress(request('2001:db8:1:2::1'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(request('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(request('2001:DB8:0001:0002::ffff'), false)).toBe('2001:db8:1:2::/64');
  });
});
