import { describe, it, expect } from 'vitest';
import { makePair, runHandshake } from '../support/quic-pair.js';

describe('Connection handshake over the simulated network', () => {
  it('completes a 1-RTT handshake and agrees on ALPN', async () => {
    const pair = await makePair({ alpn: ['perf', 'hq-interop'] });
    expect(runHandshake(pair)).toBe(true);
    const s = pair.server.conn!;
    expect(pair.client.alpn).toBe('perf');
    expect(s.alpn).toBe('perf');
    expect(pair.clientEvents.some((e) => e.type === 'handshakeCompleted')).toBe(true);
    expect(pair.serverEvents.some((e) => e.type === 'handshakeConfirmed')).toBe(true);
    expect(pair.client.state).toBe('established');
  });
});
