import { describe, expect, it } from 'vitest';
import { negotiateHeartbeat } from '../../../server/stomp/heartbeat-negotiation.js';

const policy = { preferredSendMs: 10_000, preferredReceiveMs: 10_000, minMs: 1_000 };

describe('heart-beat negotiation', () => {
  it('gives a client asking for 1 s beats exactly that, both ways', () => {
    expect(negotiateHeartbeat(1000, 1000, policy)).toEqual({ header: '1000,1000', sendEveryMs: 1000, expectEveryMs: 1000 });
  });

  it('never goes below the floor, whatever the client asks', () => {
    expect(negotiateHeartbeat(10, 200, policy)).toEqual({ header: '1000,1000', sendEveryMs: 1000, expectEveryMs: 1000 });
  });

  it('offers the preferred interval to a client asking for slower beats, and the spec then takes the slower one', () => {
    expect(negotiateHeartbeat(30_000, 60_000, policy)).toEqual({ header: '10000,10000', sendEveryMs: 60_000, expectEveryMs: 30_000 });
  });

  it('agrees to no heart-beats when the client offers 0,0', () => {
    expect(negotiateHeartbeat(0, 0, policy)).toEqual({ header: '10000,10000', sendEveryMs: 0, expectEveryMs: 0 });
  });

  it('sends none when the server is configured without heart-beats', () => {
    expect(negotiateHeartbeat(1000, 1000, { preferredSendMs: 0, preferredReceiveMs: 0, minMs: 1000 })).toEqual({
      header: '0,0',
      sendEveryMs: 0,
      expectEveryMs: 0,
    });
  });

  it('lets a preferred interval below the floor win over the floor', () => {
    expect(negotiateHeartbeat(100, 100, { preferredSendMs: 200, preferredReceiveMs: 200, minMs: 1000 }).header).toBe('200,200');
  });
});
