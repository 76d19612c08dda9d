import { describe, expect, it } from 'vitest';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import {
  assertFrameAllowed,
  assertPayloadNotEmpty,
  isAckEliciting,
  isFrameAllowed,
  isProbingFrame,
} from '../../src/transport/frame-rules.js';
import { PacketType } from '../../src/transport/packet.js';

/**
 * RFC 9000 §12.4 Table 3 "Pkts" column as printed (I Initial, H Handshake, 0 0-RTT, 1 1-RTT;
 * "ih": only type 0x1c in Initial/Handshake), RFC 9221 for DATAGRAM, with the §12.5 note
 * applied: RETIRE_CONNECTION_ID cannot be sent in 0-RTT.
 */
const TABLE3: [number[], string][] = [
  [[0x00], 'IH01'],
  [[0x01], 'IH01'],
  [[0x02, 0x03], 'IH_1'],
  [[0x04], '__01'],
  [[0x05], '__01'],
  [[0x06], 'IH_1'],
  [[0x07], '___1'],
  [[0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f], '__01'],
  [[0x10], '__01'],
  [[0x11], '__01'],
  [[0x12, 0x13], '__01'],
  [[0x14], '__01'],
  [[0x15], '__01'],
  [[0x16, 0x17], '__01'],
  [[0x18], '__01'],
  [[0x19], '___1'], // table: __01; §12.5: impossible in 0-RTT
  [[0x1a], '__01'],
  [[0x1b], '___1'],
  [[0x1c], 'IH01'],
  [[0x1d], '__01'],
  [[0x1e], '___1'],
  [[0x30, 0x31], '__01'],
];
const COLUMNS = [PacketType.Initial, PacketType.Handshake, PacketType.ZeroRtt, PacketType.OneRtt] as const;

function errorOf(fn: () => void): QuicError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuicError) return e;
    throw e;
  }
  return undefined;
}

describe('frame permissions per packet type', () => {
  it('match RFC 9000 Table 3 (and RFC 9221) for every frame type and packet type', () => {
    let checked = 0;
    for (const [types, pkts] of TABLE3) {
      for (const t of types) {
        COLUMNS.forEach((pt, i) => {
          const allowed = pkts[i] !== '_';
          expect(isFrameAllowed(t, pt), `0x${t.toString(16)} in packet type ${pt}`).toBe(allowed);
          const err = errorOf(() => assertFrameAllowed(t, pt));
          if (allowed) {
            expect(err).toBeUndefined();
          } else {
            expect(err?.code).toBe(TransportError.PROTOCOL_VIOLATION);
            expect(err?.frameType).toBe(t);
          }
          checked++;
        });
      }
    }
    expect(checked).toBe(33 * 4);
  });

  it('names the frame and packet type in the reason', () => {
    expect(errorOf(() => assertFrameAllowed(0x02, PacketType.ZeroRtt))?.reason).toBe('ACK frame is not allowed in 0-RTT packets');
    expect(errorOf(() => assertFrameAllowed(0x0d, PacketType.Initial))?.reason).toBe('STREAM frame is not allowed in Initial packets');
  });

  it('a server receiving NEW_TOKEN or HANDSHAKE_DONE is a PROTOCOL_VIOLATION; a client may receive them', () => {
    for (const t of [0x07, 0x1e]) {
      const err = errorOf(() => assertFrameAllowed(t, PacketType.OneRtt, 'server'));
      expect(err?.code).toBe(TransportError.PROTOCOL_VIOLATION);
      expect(err?.frameType).toBe(t);
      expect(isFrameAllowed(t, PacketType.OneRtt, 'server')).toBe(false);
      expect(errorOf(() => assertFrameAllowed(t, PacketType.OneRtt, 'client'))).toBeUndefined();
      expect(isFrameAllowed(t, PacketType.OneRtt, 'client')).toBe(true);
    }
    expect(errorOf(() => assertFrameAllowed(0x08, PacketType.OneRtt, 'server'))).toBeUndefined();
  });

  it('unknown frame types are FRAME_ENCODING_ERROR; asking about Retry or VN packets is a RangeError', () => {
    for (const t of [0x1f, 0x20, 0x2f, 0x32, 0x40, 2 ** 40]) {
      const err = errorOf(() => assertFrameAllowed(t, PacketType.OneRtt));
      expect(err?.code).toBe(TransportError.FRAME_ENCODING_ERROR);
      expect(err?.frameType).toBe(t);
      expect(isFrameAllowed(t, PacketType.OneRtt)).toBe(false);
    }
    expect(() => assertFrameAllowed(0x01, PacketType.Retry)).toThrow(RangeError);
    expect(() => assertFrameAllowed(0x01, PacketType.VersionNegotiation)).toThrow(RangeError);
  });

  it('an empty payload is a PROTOCOL_VIOLATION', () => {
    expect(errorOf(() => assertPayloadNotEmpty(0))?.code).toBe(TransportError.PROTOCOL_VIOLATION);
    expect(errorOf(() => assertPayloadNotEmpty(1))).toBeUndefined();
  });
});

describe('frame properties for recovery', () => {
  it('ack-eliciting: everything but ACK, PADDING and CONNECTION_CLOSE', () => {
    const not = [0x00, 0x02, 0x03, 0x1c, 0x1d];
    for (let t = 0; t <= 0x1e; t++) expect(isAckEliciting(t), `0x${t.toString(16)}`).toBe(!not.includes(t));
    expect(isAckEliciting(0x30)).toBe(true);
  });

  it('probing: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID, PADDING (Table 3 "P")', () => {
    const probing = [0x00, 0x18, 0x1a, 0x1b];
    for (let t = 0; t <= 0x1e; t++) expect(isProbingFrame(t), `0x${t.toString(16)}`).toBe(probing.includes(t));
  });
});
