/**
 * Every protocol error a peer can provoke through a frame closes the connection with the
 * RFC 9000 code, the offending frame type and a reason; the misbehaving peer sees the same
 * code in the CONNECTION_CLOSE it receives, and both sides end `closed`.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, type QuicPair } from '../support/quic-pair.js';
import { F, inject } from '../support/quic-wire.js';
import { TransportError } from '../../src/transport/errors.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import type { ConnectionCloseInfo, ConnectionEvent } from '../../src/transport/events.js';
import type { TransportSettings } from '../../src/transport/connection-config.js';

async function established(transport?: Partial<TransportSettings>): Promise<QuicPair> {
  const pair = await makePair(transport ? { transport } : {});
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 100); // let HANDSHAKE_DONE and the first ACKs settle
  return pair;
}

function closed(events: ConnectionEvent[]): ConnectionCloseInfo | undefined {
  for (const e of events) if (e.type === 'closed') return e.info;
  return undefined;
}

/**
 * Side `from` sends `frames`; the other side must close with `code` (and `frameType` when
 * given), and side `from` must learn it from the CONNECTION_CLOSE.
 */
function expectViolation(pair: QuicPair, from: 0 | 1, frames: readonly Frame[] | Uint8Array, code: number, frameType?: number): ConnectionCloseInfo {
  inject(pair, from, frames);
  const victim = from === 0 ? pair.server.conn! : pair.client;
  const bad = from === 0 ? pair.client : pair.server.conn!;
  expect(victim.state).toBe('closing');
  const info = victim.closeInfo!;
  expect(info.source).toBe('transport');
  expect(info.code).toBe(BigInt(code));
  if (frameType !== undefined) expect(info.frameType).toBe(frameType);
  expect(info.reason.length).toBeGreaterThan(0);
  pair.net.run(() => victim.isClosed && bad.isClosed, 10_000);
  const victimEvents = from === 0 ? pair.serverEvents : pair.clientEvents;
  const badEvents = from === 0 ? pair.clientEvents : pair.serverEvents;
  expect(closed(victimEvents)).toEqual(info);
  const peerView = closed(badEvents);
  expect(peerView?.source).toBe('peer-transport');
  expect(peerView?.code).toBe(BigInt(code));
  if (frameType !== undefined) expect(peerView?.frameType).toBe(frameType);
  expect(peerView?.reason).toBe(info.reason.slice(0, 100));
  return info;
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('stream frame errors', () => {
  it('STREAM on our own send-only stream: STREAM_STATE_ERROR', async () => {
    const pair = await established();
    const uni = pair.client.openStream(false)!; // client uni stream: the server may not send on it
    pair.client.streamWrite(uni, bytes(1, 2, 3));
    pair.net.run(() => false, 50);
    expectViolation(pair, 1, [F.stream(uni, 0, 4)], TransportError.STREAM_STATE_ERROR, 0x0a);
  });

  it('STREAM on a locally initiated stream not yet opened: STREAM_STATE_ERROR', async () => {
    const pair = await established();
    // Stream 8 is the client's third bidi stream; the client opened none.
    expectViolation(pair, 1, [F.stream(8, 0, 4)], TransportError.STREAM_STATE_ERROR, 0x0a);
  });

  it('STREAM beyond the stream limit: STREAM_LIMIT_ERROR', async () => {
    const pair = await established({ initialMaxStreamsBidi: 3 });
    // The client may open bidi streams 0, 4, 8; stream 12 is the fourth.
    expectViolation(pair, 0, [F.stream(12, 0, 1)], TransportError.STREAM_LIMIT_ERROR, 0x0a);
  });

  it('STREAM beyond the stream window: FLOW_CONTROL_ERROR', async () => {
    const pair = await established({ initialMaxStreamDataBidiRemote: 1000 });
    expectViolation(pair, 0, [F.stream(0, 900, 101)], TransportError.FLOW_CONTROL_ERROR, 0x0e);
  });

  it('STREAM data summing past the connection window: FLOW_CONTROL_ERROR', async () => {
    const pair = await established({ initialMaxData: 3000, maxConnectionWindow: 3000, initialMaxStreamDataBidiRemote: 2000 });
    inject(pair, 0, [F.stream(0, 0, 1500), F.stream(4, 0, 1400)]);
    expect(pair.server.conn!.state).toBe('established');
    expectViolation(pair, 0, [F.stream(8, 0, 101)], TransportError.FLOW_CONTROL_ERROR, 0x0a);
  });

  it('data past the final size: FINAL_SIZE_ERROR', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(0, 0, 10, true)]);
    expectViolation(pair, 0, [F.stream(0, 10, 1)], TransportError.FINAL_SIZE_ERROR, 0x0e);
  });

  it('a second FIN at a different size: FINAL_SIZE_ERROR', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(0, 0, 10, true)]);
    expectViolation(pair, 0, [F.stream(0, 0, 5, true)], TransportError.FINAL_SIZE_ERROR, 0x0b);
  });

  it('a FIN below data already received: FINAL_SIZE_ERROR', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(0, 0, 20)]);
    expectViolation(pair, 0, [F.stream(0, 0, 10, true)], TransportError.FINAL_SIZE_ERROR, 0x0b);
  });

  it('RESET_STREAM with a final size differing from the FIN: FINAL_SIZE_ERROR', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(0, 0, 10, true)]);
    expectViolation(pair, 0, [{ type: FrameType.ResetStream, streamId: 0, errorCode: 7n, finalSize: 11 }], TransportError.FINAL_SIZE_ERROR, 0x04);
  });

  it('RESET_STREAM with a final size below data received: FINAL_SIZE_ERROR', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(0, 0, 30)]);
    expectViolation(pair, 0, [{ type: FrameType.ResetStream, streamId: 0, errorCode: 7n, finalSize: 20 }], TransportError.FINAL_SIZE_ERROR, 0x04);
  });

  it('RESET_STREAM with a final size past the window: FLOW_CONTROL_ERROR', async () => {
    const pair = await established({ initialMaxStreamDataBidiRemote: 1000 });
    expectViolation(pair, 0, [{ type: FrameType.ResetStream, streamId: 0, errorCode: 7n, finalSize: 1001 }], TransportError.FLOW_CONTROL_ERROR, 0x04);
  });

  it('RESET_STREAM on our send-only stream: STREAM_STATE_ERROR', async () => {
    const pair = await established();
    const uni = pair.client.openStream(false)!;
    pair.client.streamWrite(uni, bytes(1));
    pair.net.run(() => false, 50);
    expectViolation(pair, 1, [{ type: FrameType.ResetStream, streamId: uni, errorCode: 1n, finalSize: 0 }], TransportError.STREAM_STATE_ERROR, 0x04);
  });

  it("STOP_SENDING on the peer's send-only stream: STREAM_STATE_ERROR", async () => {
    const pair = await established();
    // Stream 2 is the client's first uni stream: the server has no sending part on it.
    expectViolation(pair, 1, [{ type: FrameType.StopSending, streamId: 2, errorCode: 1n }], TransportError.STREAM_STATE_ERROR, 0x05);
  });

  it('STOP_SENDING on a local stream not yet opened: STREAM_STATE_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 1, [{ type: FrameType.StopSending, streamId: 4, errorCode: 1n }], TransportError.STREAM_STATE_ERROR, 0x05);
  });

  it("MAX_STREAM_DATA on the peer's send-only stream: STREAM_STATE_ERROR", async () => {
    const pair = await established();
    expectViolation(pair, 1, [{ type: FrameType.MaxStreamData, streamId: 2, maximumStreamData: 10 }], TransportError.STREAM_STATE_ERROR, 0x11);
  });

  it('STREAM_DATA_BLOCKED on our send-only stream: STREAM_STATE_ERROR', async () => {
    const pair = await established();
    const uni = pair.client.openStream(false)!;
    pair.client.streamWrite(uni, bytes(1));
    pair.net.run(() => false, 50);
    expectViolation(pair, 1, [{ type: FrameType.StreamDataBlocked, streamId: uni, maximumStreamData: 0 }], TransportError.STREAM_STATE_ERROR, 0x15);
  });

  it('MAX_STREAMS above 2^60: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    // 0x12, varint 2^60+1 (8-byte encoding: 0xd0 00 00 00 00 00 00 01).
    expectViolation(pair, 1, bytes(0x12, 0xd0, 0, 0, 0, 0, 0, 0, 1), TransportError.FRAME_ENCODING_ERROR, 0x12);
  });

  it('STREAMS_BLOCKED above 2^60: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 0, bytes(0x17, 0xd0, 0, 0, 0, 0, 0, 0, 1), TransportError.FRAME_ENCODING_ERROR, 0x17);
  });
});

describe('connection-level frame errors', () => {
  it('ACK of a packet never sent: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    const next = pair.client.spaces[2].nextPn;
    expectViolation(
      pair,
      1,
      [{ type: FrameType.Ack, largestAcknowledged: next + 1000, ackDelay: 0, ranges: [next + 1000, next + 1000], ect0: 0, ect1: 0, ce: 0 }],
      TransportError.PROTOCOL_VIOLATION,
      0x02,
    );
  });

  it('a malformed ACK (first range below 0): FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 1, bytes(0x02, 5, 0, 0, 6), TransportError.FRAME_ENCODING_ERROR, 0x02);
  });

  it('CRYPTO data far beyond what TLS consumed: CRYPTO_BUFFER_EXCEEDED', async () => {
    const pair = await established();
    expectViolation(pair, 1, [{ type: FrameType.Crypto, offset: 1 << 20, data: new Uint8Array(10) }], TransportError.CRYPTO_BUFFER_EXCEEDED, 0x06);
  });

  it('a TLS message TLS does not expect in 1-RTT CRYPTO: CRYPTO_ERROR(unexpected_message)', async () => {
    const pair = await established();
    // A ClientHello (type 1) after the handshake: unexpected_message (10) → 0x10a.
    const msg = bytes(1, 0, 0, 4, 3, 3, 0, 0);
    const info = expectViolation(pair, 0, [{ type: FrameType.Crypto, offset: 0, data: msg }], 0x10a);
    expect(info.code).toBe(0x10an);
  });

  it('NEW_TOKEN sent to a server: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    expectViolation(pair, 0, [{ type: FrameType.NewToken, token: bytes(1, 2, 3) }], TransportError.PROTOCOL_VIOLATION, 0x07);
  });

  it('an empty NEW_TOKEN: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 1, bytes(0x07, 0), TransportError.FRAME_ENCODING_ERROR, 0x07);
  });

  it('HANDSHAKE_DONE sent to a server: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    expectViolation(pair, 0, [{ type: FrameType.HandshakeDone }], TransportError.PROTOCOL_VIOLATION, 0x1e);
  });

  it('an unknown frame type: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 0, bytes(0x21), TransportError.FRAME_ENCODING_ERROR, 0x21);
  });

  it('a frame type that is not minimally encoded: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    expectViolation(pair, 0, bytes(0x40, 0x01), TransportError.PROTOCOL_VIOLATION);
  });

  it('a truncated frame: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(pair, 0, bytes(0x10), TransportError.FRAME_ENCODING_ERROR, 0x10);
  });

  it('DATAGRAM when not negotiated: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    expectViolation(pair, 0, [{ type: FrameType.Datagram, data: bytes(1, 2), explicitLength: true }], TransportError.PROTOCOL_VIOLATION, 0x31);
  });

  it('DATAGRAM above max_datagram_frame_size: PROTOCOL_VIOLATION', async () => {
    const pair = await established({ maxDatagramFrameSize: 100 });
    inject(pair, 0, [{ type: FrameType.Datagram, data: new Uint8Array(100), explicitLength: true }]);
    expect(pair.server.conn!.state).toBe('established');
    expectViolation(pair, 0, [{ type: FrameType.Datagram, data: new Uint8Array(101), explicitLength: true }], TransportError.PROTOCOL_VIOLATION, 0x31);
  });

  it('NEW_CONNECTION_ID beyond active_connection_id_limit: CONNECTION_ID_LIMIT_ERROR', async () => {
    const pair = await established({ activeConnectionIdLimit: 2 });
    const ncid = (seq: number): Frame => ({
      type: FrameType.NewConnectionId,
      sequenceNumber: seq,
      retirePriorTo: 0,
      connectionId: Uint8Array.of(0xee, seq, 0, 0, 0, 0, 0, 0),
      statelessResetToken: new Uint8Array(16).fill(seq),
    });
    // The server already issued sequence 1 (limit 2): sequence 2 makes three active.
    expectViolation(pair, 1, [ncid(2)], TransportError.CONNECTION_ID_LIMIT_ERROR, 0x18);
  });

  it('NEW_CONNECTION_ID reusing a sequence number for another ID: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    const f = (cid: number): Frame => ({
      type: FrameType.NewConnectionId,
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: Uint8Array.of(cid, 1, 1, 1, 1, 1, 1, 1),
      statelessResetToken: new Uint8Array(16).fill(1),
    });
    expectViolation(pair, 1, [f(0xaa)], TransportError.PROTOCOL_VIOLATION, 0x18);
  });

  it('NEW_CONNECTION_ID with retire_prior_to above its sequence: FRAME_ENCODING_ERROR', async () => {
    const pair = await established();
    expectViolation(
      pair,
      1,
      // The encoder refuses this frame: type, sequence 9, retire_prior_to 10, length 8, ID, token.
      bytes(0x18, 9, 10, 8, ...new Uint8Array(8).fill(9), ...new Uint8Array(16)),
      TransportError.FRAME_ENCODING_ERROR,
      0x18,
    );
  });

  it('RETIRE_CONNECTION_ID of a sequence never issued: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    expectViolation(pair, 0, [{ type: FrameType.RetireConnectionId, sequenceNumber: 50 }], TransportError.PROTOCOL_VIOLATION, 0x19);
  });

  it('RETIRE_CONNECTION_ID of the ID the packet was sent to: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    // The client sends to the server's sequence 0 ID.
    expectViolation(pair, 0, [{ type: FrameType.RetireConnectionId, sequenceNumber: 0 }], TransportError.PROTOCOL_VIOLATION, 0x19);
  });

  it('a packet without frames: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    // PADDING counts as a frame...
    inject(pair, 0, bytes(0, 0, 0, 0));
    expect(pair.server.conn!.state).toBe('established');
    // ...an empty payload (a 4-byte packet number leaves room for the sample) does not.
    expectViolation(pair, 0, new Uint8Array(0), TransportError.PROTOCOL_VIOLATION);
  });

  it('reserved header bits set: PROTOCOL_VIOLATION', async () => {
    const pair = await established();
    inject(pair, 0, [F.ping()], { firstByteOr: 0x18 });
    const s = pair.server.conn!;
    expect(s.state).toBe('closing');
    expect(s.closeInfo!.code).toBe(BigInt(TransportError.PROTOCOL_VIOLATION));
  });

  it('frames not allowed in Handshake packets: PROTOCOL_VIOLATION', async () => {
    const pair = await makePair();
    // Run until the client has Handshake keys but before the handshake is confirmed.
    pair.net.afterStep = () => pair.collect();
    expect(pair.net.run(() => pair.client.spaces[1].sendKeys !== undefined && pair.server.conn?.spaces[1].recvKeys !== undefined)).toBe(true);
    inject(pair, 0, [F.stream(0, 0, 3)], { type: 'handshake' });
    const s = pair.server.conn!;
    expect(s.closeInfo?.code).toBe(BigInt(TransportError.PROTOCOL_VIOLATION));
    expect(s.closeInfo?.frameType).toBe(0x0a);
  });
});
