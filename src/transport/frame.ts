/**
 * Decoding QUIC frames (RFC 9000 §12.4 and §19, RFC 9221 §4) from a decrypted packet payload.
 *
 * `readFrame` parses one frame from a `BufferReader` and returns one small object; byte
 * strings are views of the payload (no copies), and only ACK ranges get an extra array.
 * Malformed frames throw `QuicError` FRAME_ENCODING_ERROR carrying the wire frame type; the
 * field checks RFC 9000 §19 puts on each frame itself are made here (empty NEW_TOKEN, bad
 * connection ID length, Retire Prior To above Sequence Number, stream counts above 2^60,
 * offsets past 2^62-1, ACK ranges below 0). Whether a frame may appear in a packet type is
 * checked separately, by `assertFrameAllowed` in frame-rules.ts.
 *
 * ```ts
 * const r = new BufferReader(payload);
 * while (r.pos < r.end) {
 *   const frame = readFrame(r);
 *   assertFrameAllowed(r.frameType!, packetType, role); // r.frameType: the wire type just read
 *   …
 * }
 * ```
 */

import { BufferReader } from './buffer-reader.js';
import { QuicError, TransportError } from './errors.js';
import {
  FrameType,
  MAX_STREAM_COUNT,
  PATH_DATA_LENGTH,
  STATELESS_RESET_TOKEN_LENGTH,
  STREAM_FIN_BIT,
  STREAM_LEN_BIT,
  STREAM_OFF_BIT,
  frameTypeName,
  type AckFrame,
  type Frame,
} from './frame-types.js';
import { MAX_CONNECTION_ID_LENGTH } from './packet.js';
import { VARINT_MAX, isNonMinimalVarintAt, readVarintBigAt } from './varint.js';

/**
 * Reads the frame type at the reader's position. Frame types must use their shortest encoding
 * (RFC 9000 §12.4): a longer one is a PROTOCOL_VIOLATION (the RFC's MAY, taken).
 */
function readFrameType(r: BufferReader): number {
  const first = r.buf[r.pos]!;
  if (first < 0x40) {
    r.pos++;
    return first;
  }
  const start = r.pos;
  r.frameType = undefined;
  const type = r.varint();
  if (isNonMinimalVarintAt(r.buf, start, r.end)) {
    throw new QuicError(TransportError.PROTOCOL_VIOLATION, `frame type 0x${type.toString(16)} is not minimally encoded`, type);
  }
  return type;
}

/**
 * Checks offset + length ≤ 2^62-1 (RFC 9000 §19.6, §19.8). Only a saturated offset can get
 * there; it is then re-read exactly from `offsetPos`.
 */
function checkEndOffset(r: BufferReader, offset: number, offsetPos: number, length: number): void {
  if (offset === Number.MAX_SAFE_INTEGER && readVarintBigAt(r.buf, offsetPos, r.end) + BigInt(length) > VARINT_MAX) {
    r.fail(`${frameTypeName(r.frameType ?? 0)} data ends past 2^62-1`);
  }
}

function readAck(r: BufferReader, type: typeof FrameType.Ack | typeof FrameType.AckEcn): AckFrame {
  const largest = r.varint();
  const ackDelay = r.varint();
  const rangeCount = r.varint();
  const firstRange = r.varint();
  // Every further range takes at least two bytes: reject impossible counts before looping.
  if (rangeCount > r.remaining / 2) r.fail(`ACK Range Count ${rangeCount} exceeds the frame`);
  let smallest = largest - firstRange;
  if (smallest < 0) r.fail(`First ACK Range ${firstRange} exceeds Largest Acknowledged ${largest}`);
  const ranges: number[] = [largest, smallest];
  for (let i = 0; i < rangeCount; i++) {
    const gap = r.varint();
    const length = r.varint();
    const high = smallest - gap - 2;
    if (high < 0) r.fail(`ACK range ${i + 1} starts below packet number 0`);
    smallest = high - length;
    if (smallest < 0) r.fail(`ACK range ${i + 1} ends below packet number 0`);
    ranges.push(high, smallest);
  }
  let ect0 = 0;
  let ect1 = 0;
  let ce = 0;
  if (type === FrameType.AckEcn) {
    ect0 = r.varint();
    ect1 = r.varint();
    ce = r.varint();
  }
  return { type, largestAcknowledged: largest, ackDelay, ranges, ect0, ect1, ce };
}

/**
 * Decodes the frame at the reader's position and advances past it. Sets `r.frameType` to the
 * wire type read and `r.errorCode` to FRAME_ENCODING_ERROR. Throws QuicError on malformed
 * input; RangeError if called with nothing left to read.
 */
export function readFrame(r: BufferReader): Frame {
  if (r.pos >= r.end) throw new RangeError(`readFrame called at offset ${r.pos} with no bytes left`);
  r.errorCode = TransportError.FRAME_ENCODING_ERROR;
  const type = readFrameType(r);
  r.frameType = type;
  switch (type) {
    case FrameType.Padding: {
      const b = r.buf;
      const end = r.end;
      let p = r.pos;
      while (p < end && b[p] === 0) p++;
      const length = p - r.pos + 1;
      r.pos = p;
      return { type, length };
    }
    case FrameType.Ping:
    case FrameType.HandshakeDone:
      return { type };
    case FrameType.Ack:
    case FrameType.AckEcn:
      return readAck(r, type);
    case FrameType.ResetStream: {
      const streamId = r.varint();
      const errorCode = r.varintBig();
      const finalSize = r.varint();
      return { type, streamId, errorCode, finalSize };
    }
    case FrameType.StopSending: {
      const streamId = r.varint();
      const errorCode = r.varintBig();
      return { type, streamId, errorCode };
    }
    case FrameType.Crypto: {
      const offsetPos = r.pos;
      const offset = r.varint();
      const length = r.varint();
      if (length > r.remaining) r.fail(`CRYPTO Length ${length} exceeds the ${r.remaining} bytes left`);
      checkEndOffset(r, offset, offsetPos, length);
      return { type, offset, data: r.bytes(length) };
    }
    case FrameType.NewToken: {
      const length = r.varint();
      if (length === 0) r.fail('NEW_TOKEN with an empty token');
      if (length > r.remaining) r.fail(`NEW_TOKEN Token Length ${length} exceeds the ${r.remaining} bytes left`);
      return { type, token: r.bytes(length) };
    }
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f: {
      const streamId = r.varint();
      let offset = 0;
      const offsetPos = r.pos;
      if ((type & STREAM_OFF_BIT) !== 0) offset = r.varint();
      const explicitLength = (type & STREAM_LEN_BIT) !== 0;
      let length: number;
      if (explicitLength) {
        length = r.varint();
        if (length > r.remaining) r.fail(`STREAM Length ${length} exceeds the ${r.remaining} bytes left`);
      } else {
        length = r.remaining;
      }
      checkEndOffset(r, offset, offsetPos, length);
      const data = r.bytes(length);
      return { type: FrameType.Stream, streamId, offset, data, fin: (type & STREAM_FIN_BIT) !== 0, explicitLength };
    }
    case FrameType.MaxData:
    case FrameType.DataBlocked:
      return { type, maximumData: r.varint() };
    case FrameType.MaxStreamData:
    case FrameType.StreamDataBlocked: {
      const streamId = r.varint();
      return { type, streamId, maximumStreamData: r.varint() };
    }
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return {
        type,
        maximumStreams: r.varintAtMost(MAX_STREAM_COUNT, `${frameTypeName(type)} Maximum Streams exceeds 2^60`),
      };
    case FrameType.NewConnectionId: {
      const seqPos = r.pos;
      const sequenceNumber = r.varint();
      const rptPos = r.pos;
      const retirePriorTo = r.varint();
      if (
        retirePriorTo > sequenceNumber ||
        (retirePriorTo === Number.MAX_SAFE_INTEGER &&
          readVarintBigAt(r.buf, rptPos, r.end) > readVarintBigAt(r.buf, seqPos, r.end))
      ) {
        r.fail('NEW_CONNECTION_ID Retire Prior To exceeds Sequence Number');
      }
      const length = r.u8();
      if (length < 1 || length > MAX_CONNECTION_ID_LENGTH) r.fail(`NEW_CONNECTION_ID Length ${length} is not 1..20`);
      const connectionId = r.bytes(length);
      const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
      return { type, sequenceNumber, retirePriorTo, connectionId, statelessResetToken };
    }
    case FrameType.RetireConnectionId:
      return { type, sequenceNumber: r.varint() };
    case FrameType.PathChallenge:
    case FrameType.PathResponse:
      return { type, data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.ConnectionClose: {
      const errorCode = r.varintBig();
      const frameType = r.varint();
      const length = r.varint();
      if (length > r.remaining) r.fail(`CONNECTION_CLOSE Reason Phrase Length ${length} exceeds the ${r.remaining} bytes left`);
      return { type, errorCode, frameType, reason: r.bytes(length) };
    }
    case FrameType.ApplicationClose: {
      const errorCode = r.varintBig();
      const length = r.varint();
      if (length > r.remaining) r.fail(`CONNECTION_CLOSE Reason Phrase Length ${length} exceeds the ${r.remaining} bytes left`);
      return { type, errorCode, reason: r.bytes(length) };
    }
    case FrameType.Datagram:
      return { type, data: r.rest(), explicitLength: false };
    case FrameType.DatagramWithLength: {
      const length = r.varint();
      if (length > r.remaining) r.fail(`DATAGRAM Length ${length} exceeds the ${r.remaining} bytes left`);
      return { type: FrameType.Datagram, data: r.bytes(length), explicitLength: true };
    }
    default:
      return r.fail(`unknown frame type 0x${type.toString(16)}`);
  }
}

/**
 * Decodes every frame of a payload into an array (convenience; the receive path should loop
 * over `readFrame` instead). Throws QuicError on malformed input.
 */
export function decodeFrames(payload: Uint8Array): Frame[] {
  const r = new BufferReader(payload);
  const frames: Frame[] = [];
  while (r.pos < r.end) frames.push(readFrame(r));
  return frames;
}
