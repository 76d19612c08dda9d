/**
 * Unreliable datagrams (RFC 9221) between the two connections: delivered as events when both
 * sides negotiated them, refused locally when the peer did not or when too large, and never
 * retransmitted when lost.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, payload, type PairOptions } from '../support/quic-pair.js';
import { u8, wireFrames } from '../support/quic-wire.js';
import { FrameType } from '../../src/transport/frame-types.js';

async function established(opts: PairOptions) {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 100);
  return pair;
}

describe('DATAGRAM frames', () => {
  it('flow both ways as datagram events, byte-exact', async () => {
    const pair = await established({ transport: { maxDatagramFrameSize: 1200 } });
    const server = pair.server.conn!;
    expect(pair.client.maxDatagramPayload).toBeGreaterThan(1000);
    for (let i = 0; i < 10; i++) expect(pair.client.sendDatagram(payload(100 + i, i))).toBe(true);
    expect(server.sendDatagram(payload(500, 99))).toBe(true);
    pair.net.run(() => false, 100);
    const got = pair.serverEvents.filter((e) => e.type === 'datagram').map((e) => u8((e as { data: Uint8Array }).data));
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => payload(100 + i, i)));
    const back = pair.clientEvents.filter((e) => e.type === 'datagram').map((e) => u8((e as { data: Uint8Array }).data));
    expect(back).toEqual([payload(500, 99)]);
  });

  it('are refused when the peer does not accept them or they do not fit', async () => {
    const pair = await established({ clientTransport: { maxDatagramFrameSize: 1200 }, serverTransport: { maxDatagramFrameSize: 0 } });
    // The server did not advertise max_datagram_frame_size: the client may not send.
    expect(pair.client.maxDatagramPayload).toBe(0);
    expect(pair.client.sendDatagram(Uint8Array.of(1))).toBe(false);
    // The server may send to the client, up to what fits.
    const server = pair.server.conn!;
    const max = server.maxDatagramPayload;
    expect(max).toBeGreaterThan(0);
    expect(server.sendDatagram(new Uint8Array(max + 1))).toBe(false);
    expect(server.sendDatagram(new Uint8Array(max))).toBe(true);
    pair.net.run(() => false, 100);
    expect(pair.clientEvents.filter((e) => e.type === 'datagram').length).toBe(1);
  });

  it('a lost datagram is not retransmitted', async () => {
    const pair = await established({ transport: { maxDatagramFrameSize: 1200 } });
    let onWire = 0;
    let dropped = false;
    pair.net.tap = (from, d) => {
      if (from !== 0) return d;
      const n = wireFrames(pair, 0, d).filter((f) => f.type === FrameType.Datagram).length;
      onWire += n;
      if (n > 0 && !dropped) {
        dropped = true;
        return undefined;
      }
      return d;
    };
    expect(pair.client.sendDatagram(payload(300))).toBe(true);
    pair.net.run(() => false, 3000);
    expect(onWire).toBe(1);
    expect(pair.serverEvents.some((e) => e.type === 'datagram')).toBe(false);
    expect(pair.client.state).toBe('established');
  });
});
