/**
 * Robustness: whatever the network delivers — random bytes, mutated or truncated real
 * datagrams, or well-protected packets full of hostile frames — `receive`, `pollTransmit` and
 * `handleTimeout` never throw, a connection that gives up does so with an RFC error code and
 * a reason (never INTERNAL_ERROR, which would mean an unexpected exception inside), and a
 * connection that did not give up still works.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { makePair, runHandshake, payload, type QuicPair } from '../support/quic-pair.js';
import { craftPacket, deliver } from '../support/quic-wire.js';
import type { Connection } from '../../src/transport/connection.js';
import { TransportError } from '../../src/transport/errors.js';
import { encodeFrame } from '../../src/transport/frame-encode.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import { seededRandom } from '../support/sim-network.js';

async function established(): Promise<QuicPair> {
  const pair = await makePair();
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 100);
  return pair;
}

const KNOWN_CODES = new Set<number>(Object.values(TransportError));

/** The connection is fine, or closed with a proper transport error and a reason. */
function expectSane(c: Connection): void {
  const info = c.closeInfo;
  if (info === undefined) {
    expect(['handshake', 'established']).toContain(c.state);
    return;
  }
  if (info.source === 'transport') {
    const code = Number(info.code);
    expect(code).not.toBe(TransportError.INTERNAL_ERROR);
    expect(KNOWN_CODES.has(code) || (code >= 0x100 && code <= 0x1ff)).toBe(true);
    expect(info.reason.length).toBeGreaterThan(0);
  } else {
    expect(['stateless-reset', 'idle-timeout', 'peer-transport', 'peer-application']).toContain(info.source);
  }
}

/** Runs the network a little (timers, answers) and checks both sides. */
function settle(pair: QuicPair, ms = 50): void {
  pair.net.run(() => false, ms);
  expectSane(pair.client);
  if (pair.server.conn) expectSane(pair.server.conn);
}

/** After the abuse, a connection that is still open still moves data. */
function stillWorks(pair: QuicPair): void {
  const c = pair.client;
  const s = pair.server.conn!;
  if (c.closeInfo !== undefined || s.closeInfo !== undefined) return;
  const id = c.openStream(true);
  if (id === undefined) return;
  c.streamWrite(id, payload(3000), true);
  pair.net.run(() => s.streamReadable(id) === 3000, 2000);
  expect(s.streamReadable(id)).toBe(3000);
}

describe('random and damaged datagrams', () => {
  it('random bytes of any length, to both sides, during and after the handshake', async () => {
    for (const phase of ['handshake', 'established'] as const) {
      const pair = phase === 'established' ? await established() : await makePair();
      if (phase === 'handshake') {
        pair.net.afterStep = () => pair.collect();
        pair.net.run(() => pair.server.conn !== undefined, 100);
      }
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), fc.integer({ min: 0, max: 255 }), (bytes, toServer, first) => {
          if (bytes.length > 0) bytes[0] = first; // steer toward long/short header forms
          deliver(pair, toServer ? 1 : 0, bytes);
          expectSane(pair.client);
          expectSane(pair.server.conn!);
        }),
        { numRuns: 300, seed: 11 },
      );
      settle(pair);
      expect(pair.client.closeInfo).toBeUndefined();
      runHandshake(pair);
      stillWorks(pair);
    }
  });

  it('mutated copies of real datagrams (header, packet number, payload, lengths)', async () => {
    const pair = await makePair();
    const captured: Array<[0 | 1, Uint8Array]> = [];
    pair.net.tap = (from, d) => {
      if (captured.length < 400) captured.push([from, d.slice()]);
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    const id = pair.client.openStream(true)!;
    pair.client.streamWrite(id, payload(50_000), true);
    pair.net.run(() => pair.server.conn!.streamReadable(id) > 0, 300);
    pair.server.conn!.streamWrite(id, payload(20_000), false);
    pair.net.run(() => false, 300);
    expect(captured.length).toBeGreaterThan(20);
    const rnd = seededRandom(5);
    let n = 0;
    for (let round = 0; round < 8; round++) {
      for (const [from, d] of captured) {
        const m = d.slice();
        const flips = 1 + Math.floor(rnd() * 3);
        for (let i = 0; i < flips; i++) {
          // Bias toward the first 30 bytes, where the header and length fields live.
          const at = rnd() < 0.6 ? Math.floor(rnd() * Math.min(30, m.length)) : Math.floor(rnd() * m.length);
          m[at]! ^= 1 << Math.floor(rnd() * 8);
        }
        deliver(pair, from === 0 ? 1 : 0, m);
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
    settle(pair);
    // Authenticated encryption: not one mutated packet was accepted as valid protocol input.
    expect(pair.client.closeInfo).toBeUndefined();
    expect(pair.server.conn!.closeInfo).toBeUndefined();
    stillWorks(pair);
  });

  it('truncated datagrams at every length', async () => {
    const pair = await makePair();
    const captured: Array<[0 | 1, Uint8Array]> = [];
    pair.net.tap = (from, d) => {
      if (captured.length < 12) captured.push([from, d.slice()]);
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    for (const [from, d] of captured) {
      for (let len = 0; len < d.length; len += len < 64 ? 1 : 37) deliver(pair, from === 0 ? 1 : 0, d.subarray(0, len).slice());
    }
    settle(pair);
    expect(pair.client.closeInfo).toBeUndefined();
    expect(pair.server.conn!.closeInfo).toBeUndefined();
    stillWorks(pair);
  });

  it('replayed datagrams are harmless', async () => {
    const pair = await makePair();
    const captured: Array<[0 | 1, Uint8Array]> = [];
    pair.net.tap = (from, d) => {
      captured.push([from, d.slice()]);
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    const id = pair.client.openStream(true)!;
    pair.client.streamWrite(id, payload(20_000), true);
    pair.net.run(() => false, 200);
    for (let i = 0; i < 3; i++) for (const [from, d] of captured) deliver(pair, from === 0 ? 1 : 0, d.slice());
    settle(pair);
    expect(pair.client.closeInfo).toBeUndefined();
    expect(pair.server.conn!.closeInfo).toBeUndefined();
    let n = 0;
    for (let r = pair.server.conn!.streamRead(id); r && r.data.length; r = pair.server.conn!.streamRead(id)) n += r.data.length;
    expect(n).toBe(20_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile but well-formed frames.

const varint = fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 2 ** 40 }));
const smallStream = fc.integer({ min: 0, max: 40 });
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  // Frames that usually end the connection at once are rare, so that runs reach deeper states.
  { weight: 3, arbitrary: fc.constant<Frame>({ type: FrameType.Ping }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 }).map((length): Frame => ({ type: FrameType.Padding, length })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 })).map(([largest, first]): Frame => ({
    type: FrameType.Ack,
    largestAcknowledged: largest,
    ackDelay: 0,
    ranges: [largest, Math.max(0, largest - first)],
    ect0: 0,
    ect1: 0,
    ce: 0,
  })) },
  { weight: 3, arbitrary: fc.tuple(smallStream, fc.bigInt({ min: 0n, max: 2n ** 62n - 1n }), varint).map(([streamId, errorCode, finalSize]): Frame => ({ type: FrameType.ResetStream, streamId, errorCode, finalSize })) },
  { weight: 3, arbitrary: fc.tuple(smallStream, fc.bigInt({ min: 0n, max: 1000n })).map(([streamId, errorCode]): Frame => ({ type: FrameType.StopSending, streamId, errorCode })) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 70_000 }), bytes(40)).map(([offset, data]): Frame => ({ type: FrameType.Crypto, offset, data })) },
  { weight: 8, arbitrary: fc.tuple(smallStream, fc.oneof(fc.integer({ min: 0, max: 3000 }), varint), bytes(300), fc.boolean()).map(
    ([streamId, offset, data, fin]): Frame => ({ type: FrameType.Stream, streamId, offset, data, fin, explicitLength: true }),
  ) },
  { weight: 3, arbitrary: varint.map((maximumData): Frame => ({ type: FrameType.MaxData, maximumData })) },
  { weight: 3, arbitrary: fc.tuple(smallStream, varint).map(([streamId, maximumStreamData]): Frame => ({ type: FrameType.MaxStreamData, streamId, maximumStreamData })) },
  { weight: 3, arbitrary: fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })).map(([bidi, maximumStreams]): Frame => ({
    type: bidi ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni,
    maximumStreams,
  })) },
  { weight: 3, arbitrary: varint.map((maximumData): Frame => ({ type: FrameType.DataBlocked, maximumData })) },
  { weight: 3, arbitrary: fc.tuple(smallStream, varint).map(([streamId, maximumStreamData]): Frame => ({ type: FrameType.StreamDataBlocked, streamId, maximumStreamData })) },
  { weight: 3, arbitrary: fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })).map(([bidi, maximumStreams]): Frame => ({
    type: bidi ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni,
    maximumStreams,
  })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 255 })).map(
    ([seq, rpt, len, fill]): Frame => ({
      type: FrameType.NewConnectionId,
      sequenceNumber: seq,
      retirePriorTo: Math.min(rpt, seq),
      connectionId: new Uint8Array(len).fill(fill),
      statelessResetToken: new Uint8Array(16).fill(fill ^ 0x5a),
    }),
  ) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }).map((sequenceNumber): Frame => ({ type: FrameType.RetireConnectionId, sequenceNumber })) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((data): Frame => ({ type: FrameType.PathChallenge, data })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((data): Frame => ({ type: FrameType.PathResponse, data })) },
  { weight: 1, arbitrary: bytes(30).map((token): Frame => (token.length === 0 ? { type: FrameType.Ping } : { type: FrameType.NewToken, token })) },
  { weight: 1, arbitrary: fc.constant<Frame>({ type: FrameType.HandshakeDone }) },
  { weight: 3, arbitrary: bytes(100).map((data): Frame => ({ type: FrameType.Datagram, data, explicitLength: true })) },
);

/** Encodes a frame list; frames the encoder refuses are dropped. */
function encode(frames: Frame[]): Uint8Array {
  const buf = new Uint8Array(8192);
  let p = 0;
  for (const f of frames) {
    try {
      const q = encodeFrame(f, buf, p);
      if (q > 1200) break;
      p = q;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }
  return buf.slice(0, p);
}

describe('hostile frame sequences in authenticated packets', () => {
  for (const from of [0, 1] as const) {
    it(`from the ${from === 0 ? 'client' : 'server'}: every outcome is either fine or a proper connection error`, async () => {
      let closedWith = new Map<number, number>();
      let alive = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(frameArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (packets) => {
          const pair = await established();
          const sender = from === 0 ? pair.client : pair.server.conn!;
          const victim = from === 0 ? pair.server.conn! : pair.client;
          for (const frames of packets) {
            const body = encode(frames);
            if (body.length === 0) continue;
            deliver(pair, from === 0 ? 1 : 0, craftPacket(sender, body));
            expectSane(victim);
            pair.net.run(() => false, 3);
            if (victim.closeInfo !== undefined) break;
          }
          settle(pair, 200);
          const info = victim.closeInfo;
          if (info?.source === 'transport') closedWith.set(Number(info.code), (closedWith.get(Number(info.code)) ?? 0) + 1);
          else {
            alive++;
            stillWorks(pair);
          }
        }),
        { numRuns: 120, seed: from + 21 },
      );
      // The generator reached both outcomes, and several distinct error codes.
      console.log(`hostile frames from side ${from}: ${alive} connections survived; closed with`, Object.fromEntries([...closedWith].map(([c, n]) => ['0x' + c.toString(16), n])));
      expect(alive).toBeGreaterThan(0);
      expect(closedWith.size).toBeGreaterThan(3);
      closedWith = new Map();
    }, 30_000);
  }
});
