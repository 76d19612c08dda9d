/**
 * The handshake survives the loss of any single flight (RFC 9002 §6.2: PTO probes, Initial and
 * Handshake retransmission), the server respects the anti-amplification limit while its
 * flight is lost, and the client's anti-deadlock probe (RFC 9002 §6.2.2.1) unblocks it.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, testIdentity, payload, NOW0, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { wirePackets, type WirePacket, readStream } from '../support/quic-wire.js';
import { FrameType } from '../../src/transport/frame-types.js';
import { PacketType } from '../../src/transport/packet.js';
import type { LinkOptions } from '../support/sim-network.js';

interface Sent {
  t: number;
  from: 0 | 1;
  index: number;
  size: number;
  packets: WirePacket[];
}

/** Logs every datagram (before drops) with its decoded packets. */
function record(pair: QuicPair): Sent[] {
  const log: Sent[] = [];
  const count = [0, 0];
  pair.net.tap = (from, d) => {
    log.push({ t: pair.net.now - NOW0, from, index: count[from]!++, size: d.length, packets: wirePackets(pair, from, d) });
    return d;
  };
  return log;
}

/** After the handshake, a small exchange both ways proves the connection works. */
function exchange(pair: QuicPair): void {
  const c = pair.client;
  const s = pair.server.conn!;
  const id = c.openStream(true)!;
  c.streamWrite(id, payload(4000, 1), true);
  pair.net.run(() => s.streamReadable(id) === 4000, 5000);
  expect(readStream(s, id)).toEqual(payload(4000, 1));
  s.streamWrite(id, payload(3000, 2), true);
  pair.net.run(() => c.streamReadable(id) === 3000, 5000);
  expect(readStream(c, id)).toEqual(payload(3000, 2));
}

async function lossyHandshake(drop: [number[], number[]], opts: PairOptions = {}): Promise<{ pair: QuicPair; log: Sent[]; ms: number }> {
  const links: [LinkOptions, LinkOptions] = [
    { delay: 10, dropIndices: drop[0] },
    { delay: 10, dropIndices: drop[1] },
  ];
  const pair = await makePair({ ...opts, links });
  const log = record(pair);
  expect(runHandshake(pair, 30_000)).toBe(true);
  const ms = pair.net.now - NOW0;
  pair.net.run(() => pair.client.handshakeConfirmed && pair.server.conn!.handshakeConfirmed, 10_000);
  expect(pair.client.handshakeConfirmed).toBe(true);
  expect(pair.server.conn!.handshakeConfirmed).toBe(true);
  exchange(pair);
  return { pair, log, ms };
}

async function bigChain(): Promise<PairOptions> {
  const id = await testIdentity();
  // Ten copies of the certificate: the server's flight needs more than 3 × 1200 bytes.
  return { server: { tls: { credentials: { certificateChain: Array(10).fill(id.certificate), privateKey: id.privateKey } } } };
}

const hasFrame = (p: WirePacket, type: number) => p.frames?.some((f) => f.type === type) === true;

describe('handshake with one flight lost', () => {
  it('completes on a clean path: confirmed by HANDSHAKE_DONE after two round trips', async () => {
    const { ms, log } = await lossyHandshake([[], []]);
    expect(ms).toBe(40);
    // Client Initial (padded), server Initial+Handshake coalesced in one datagram.
    expect(log[0]!.from).toBe(0);
    expect(log[0]!.size).toBeGreaterThanOrEqual(1200);
    expect(log[1]!.packets.map((p) => p.type)).toEqual([PacketType.Initial, PacketType.Handshake]);
  });

  it("the client's first Initial lost: retransmitted on PTO", async () => {
    const { ms, log } = await lossyHandshake([[0], []]);
    const retransmit = log.find((x) => x.from === 0 && x.index === 1)!;
    // Sent after the initial PTO (kInitialRtt 333 ms → 999 ms: srtt + 4·rttvar with no max_ack_delay).
    expect(retransmit.t).toBe(999);
    expect(retransmit.size).toBeGreaterThanOrEqual(1200);
    expect(retransmit.packets[0]!.type).toBe(PacketType.Initial);
    expect(hasFrame(retransmit.packets[0]!, FrameType.Crypto)).toBe(true);
    // The probe carried the ClientHello again: done one PTO and two round trips later.
    expect(ms).toBe(999 + 40);
  });

  it("the server's first flight lost: the client's probe or the server's PTO resends it", async () => {
    const { ms } = await lossyHandshake([[], [0]]);
    expect(ms).toBeLessThan(1500);
  });

  it("the client's second flight (Handshake Finished) lost", async () => {
    const { ms, log } = await lossyHandshake([[1], []]);
    const lost = log.find((x) => x.from === 0 && x.index === 1)!;
    expect(lost.packets.some((p) => p.type === PacketType.Handshake && hasFrame(p, FrameType.Crypto))).toBe(true);
    expect(ms).toBeLessThan(1500);
  });

  it("the server's HANDSHAKE_DONE lost: sent again", async () => {
    const pair = await makePair();
    let dropped = 0;
    const log = record(pair);
    const tap = pair.net.tap!;
    pair.net.tap = (from, d) => {
      tap(from, d);
      if (from === 1 && dropped === 0 && log.at(-1)!.packets.some((p) => hasFrame(p, FrameType.HandshakeDone))) {
        dropped++;
        return undefined;
      }
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    pair.net.run(() => false, 1000);
    expect(dropped).toBe(1);
    const dones = log.filter((x) => x.from === 1 && x.packets.some((p) => hasFrame(p, FrameType.HandshakeDone)));
    expect(dones.length).toBe(2);
    exchange(pair);
  });

  it("all of the server's 1-RTT packets of the first round lost", async () => {
    await lossyHandshake([[], [1, 2]]);
  });

  for (const i of [0, 1, 2]) {
    it(`a three-datagram server flight with datagram ${i} lost`, async () => {
      await lossyHandshake([[], [i]], await bigChain());
    });
  }
});

describe('anti-amplification and anti-deadlock (RFC 9000 §8.1, RFC 9002 §6.2.2.1)', () => {
  it('the server stops at three times what it received until the client speaks again', async () => {
    const pair = await makePair({ ...(await bigChain()) });
    const log = record(pair);
    let received = 0;
    const node = pair.net.nodes[1];
    const recv = node.receive.bind(node);
    node.receive = (d, from, now) => {
      received += d.length;
      recv(d, from, now);
    };
    let sent = 0;
    const tap = pair.net.tap!;
    pair.net.tap = (from, d) => {
      if (from === 1 && !pair.server.conn!.addressValidated) {
        sent += d.length;
        expect(sent).toBeLessThanOrEqual(3 * received);
      }
      return tap(from, d);
    };
    expect(runHandshake(pair)).toBe(true);
    const first = log.filter((x) => x.from === 1 && x.t === 10);
    expect(first.reduce((n, x) => n + x.size, 0)).toBe(3600);
  });

  it("the server's whole flight lost at its amplification limit: the client's Initial probe unblocks it", async () => {
    const { log } = await lossyHandshake([[], [0, 1, 2]], await bigChain());
    // The server, blocked, sends nothing until the client's probe arrives.
    const probe = log.find((x) => x.from === 0 && x.index === 1)!;
    expect(probe.packets[0]!.type).toBe(PacketType.Initial);
    expect(probe.size).toBeGreaterThanOrEqual(1200);
    const serverBetween = log.filter((x) => x.from === 1 && x.t > 10 && x.t < probe.t + 10);
    expect(serverBetween).toEqual([]);
  });

  it('the client holds Handshake keys and nothing in flight: it probes with a Handshake packet', async () => {
    // The server's Initial (ServerHello) arrives; its Handshake datagrams and the client's ACKs are lost.
    const { log } = await lossyHandshake([[1], [1, 2]], await bigChain());
    const later = log.filter((x) => x.from === 0 && x.index >= 2);
    const probe = later.find((x) => x.packets.some((p) => p.type === PacketType.Handshake && hasFrame(p, FrameType.Ping)));
    expect(probe).toBeDefined();
  });
});
