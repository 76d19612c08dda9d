/**
 * The receive path's handling of packets that arrive before their keys (RFC 9001 §5.7): they
 * wait, and are processed once the keys exist — after the packet that brought the keys is
 * finished, so nothing after its CRYPTO frame is lost.
 */
import { describe, it, expect } from 'vitest';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../../src/transport/packet.js';
import { PacketSpace } from '../../src/transport/sent-packets.js';
import { makePair } from '../support/quic-pair.js';
import { craftPacket, deliver, wirePackets } from '../support/quic-wire.js';

/** The packets of a datagram, as separate byte arrays. */
function splitPackets(datagram: Uint8Array): Array<{ type: PacketType; bytes: Uint8Array }> {
  const h = new PacketHeader();
  const out: Array<{ type: PacketType; bytes: Uint8Array }> = [];
  for (let offset = 0; offset < datagram.length; offset = h.end) {
    if (parsePacketHeader(datagram, offset, 8, h) !== HeaderStatus.Ok) break;
    out.push({ type: h.type, bytes: datagram.slice(h.start, h.end) });
  }
  return out;
}

describe('packets waiting for keys', () => {
  it('are processed after the packet whose CRYPTO frame brought the keys, whose later frames still count', async () => {
    const pair = await makePair();
    const client = pair.client;
    // Hold back the server's whole first flight, decoding its Initial frames as it leaves.
    const handshakePackets: Uint8Array[] = [];
    const initialFrames: Frame[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) return d;
      const frames = wirePackets(pair, 1, d);
      for (const p of splitPackets(d)) {
        if (p.type === PacketType.Handshake) handshakePackets.push(p.bytes);
      }
      for (const p of frames) if (p.type === PacketType.Initial) initialFrames.push(...(p.frames ?? []));
      return undefined;
    };
    pair.net.run(() => false, 30);
    pair.net.tap = undefined;
    const crypto = initialFrames.find((f) => f.type === FrameType.Crypto);
    const ack = initialFrames.find((f) => f.type === FrameType.Ack);
    expect(crypto).toBeDefined();
    expect(ack).toBeDefined();
    expect(handshakePackets.length).toBeGreaterThan(0);
    const server = pair.server.conn!;

    // The Handshake packets arrive first: no keys yet, so they wait.
    for (const p of handshakePackets) deliver(pair, 0, p);
    expect(client.spaces[PacketSpace.Handshake].recvKeys).toBeUndefined();
    expect(client.recovery.largestAcked[PacketSpace.Initial]).toBe(-1);

    // Then an Initial packet carrying the ServerHello, followed in the same packet by an ACK.
    deliver(pair, 0, craftPacket(server, [crypto!, ack!], { type: 'initial' }));
    // The ACK after the CRYPTO frame was processed, and so were the waiting Handshake packets.
    expect(client.recovery.largestAcked[PacketSpace.Initial]).toBeGreaterThanOrEqual(0);
    expect(client.handshakeComplete).toBe(true);
  });
});
