/**
 * Found in interop with ngtcp2: its client sends the request's STREAM frame (with FIN) in a
 * 1-RTT packet before the server can read 1-RTT, and again after a PTO. When the copy arrived
 * after the application had already read the FIN, the connection signalled `streamReadable`
 * again, and a server treating it as a new request reset the stream it was answering.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake } from '../support/quic-pair.js';

describe('a retransmitted STREAM frame after the FIN was read', () => {
  it('does not signal streamReadable again', async () => {
    const pair = await makePair({ link: { delay: 10 } });
    expect(runHandshake(pair)).toBe(true);
    const c = pair.client;
    const id = c.openStream(true)!;
    c.streamWrite(id, new TextEncoder().encode('GET /\r\n'), true);

    // Lose every server datagram for a while: the client does not learn that its request
    // arrived and retransmits it (RFC 9002 PTO) in new packets.
    let dropServer = true;
    pair.net.tap = (from, data) => (from === 1 && dropServer ? undefined : data);

    const s = () => pair.server.conn!;
    let readableEvents = 0;
    let finRead = false;
    pair.net.afterStep = () => {
      for (let e = s().pollEvent(); e; e = s().pollEvent()) {
        if (e.type === 'streamReadable' && e.streamId === id) {
          readableEvents++;
          if (!finRead) {
            // The application reads everything, FIN included, and keeps its sending part open.
            for (let r = s().streamRead(id); r && !finRead; r = s().streamRead(id)) {
              if (r.fin) finRead = true;
              if (r.data.length === 0) break;
            }
          }
        }
      }
      for (let e = c.pollEvent(); e; e = c.pollEvent());
    };
    pair.net.run(() => finRead, 5_000);
    expect(finRead).toBe(true);
    const sentBefore = pair.net.stats.sent[0];
    pair.net.run(() => false, 3_000); // PTOs fire: the request travels again
    expect(pair.net.stats.sent[0]).toBeGreaterThan(sentBefore);
    dropServer = false;
    pair.net.run(() => false, 1_000);
    expect(readableEvents).toBe(1);
    // The stream is still usable for the answer.
    s().streamWrite(id, new Uint8Array([1, 2, 3]), true);
    expect(s().isClosed).toBe(false);
  });
});
