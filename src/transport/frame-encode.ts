/**
 * Encoding QUIC frames into a caller's buffer (RFC 9000 §19, RFC 9221 §4).
 *
 * `encodeFrame` / `frameLength` handle any frame object. The packet builder's hot frames have
 * allocation-free writers that take plain arguments: STREAM and CRYPTO headers (the caller
 * copies the data after them, or encrypts it in place) and ACK from a range list.
 * Every writer returns the offset after what it wrote and throws RangeError on a bad argument
 * or when the buffer is too small (never writes out of bounds).
 */

import {
  FrameType,
  PATH_DATA_LENGTH,
  STATELESS_RESET_TOKEN_LENGTH,
  STREAM_FIN_BIT,
  STREAM_LEN_BIT,
  STREAM_OFF_BIT,
  type EcnCounts,
  type Frame,
} from './frame-types.js';
import { MAX_CONNECTION_ID_LENGTH } from './packet.js';
import { varintLength, varintLengthBig, writeVarint, writeVarintBig } from './varint.js';

function checkRoom(buf: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > buf.length) {
    throw new RangeError(`${what} of ${size} bytes at offset ${offset} does not fit in a buffer of ${buf.length} bytes`);
  }
}

function checkBytes(what: string, bytes: Uint8Array, min: number, max: number): void {
  if (bytes.length < min || bytes.length > max) {
    throw new RangeError(`${what} is ${bytes.length} bytes, not ${min === max ? min : `${min}..${max}`}`);
  }
}

// ---------------------------------------------------------------------------------------------
// STREAM, CRYPTO, DATAGRAM headers

/** Size of a STREAM frame header (type, Stream ID, Offset if non-zero, Length if explicit). */
export function streamFrameHeaderLength(streamId: number, offset: number, dataLength: number, explicitLength: boolean): number {
  return (
    1 +
    varintLength(streamId) +
    (offset !== 0 ? varintLength(offset) : 0) +
    (explicitLength ? varintLength(dataLength) : 0)
  );
}

/**
 * Writes a STREAM frame header for `dataLength` bytes of data at stream `offset`; the caller
 * writes the data right after. The OFF bit is set iff `offset` is non-zero. Without an explicit
 * length the frame must be the last in the packet.
 */
export function writeStreamFrameHeader(
  buf: Uint8Array,
  p: number,
  streamId: number,
  offset: number,
  dataLength: number,
  fin: boolean,
  explicitLength: boolean,
): number {
  if (offset + dataLength > Number.MAX_SAFE_INTEGER || dataLength < 0) {
    throw new RangeError(`STREAM data of ${dataLength} bytes at offset ${offset} ends past 2^53-1`);
  }
  checkRoom(buf, p, streamFrameHeaderLength(streamId, offset, dataLength, explicitLength) + dataLength, 'STREAM frame');
  buf[p++] =
    FrameType.Stream |
    (offset !== 0 ? STREAM_OFF_BIT : 0) |
    (explicitLength ? STREAM_LEN_BIT : 0) |
    (fin ? STREAM_FIN_BIT : 0);
  p = writeVarint(buf, p, streamId);
  if (offset !== 0) p = writeVarint(buf, p, offset);
  if (explicitLength) p = writeVarint(buf, p, dataLength);
  return p;
}

/** Size of a CRYPTO frame header (type, Offset, Length). */
export function cryptoFrameHeaderLength(offset: number, dataLength: number): number {
  return 1 + varintLength(offset) + varintLength(dataLength);
}

/** Writes a CRYPTO frame header for `dataLength` bytes at `offset`; the caller writes the data after it. */
export function writeCryptoFrameHeader(buf: Uint8Array, p: number, offset: number, dataLength: number): number {
  checkRoom(buf, p, cryptoFrameHeaderLength(offset, dataLength) + dataLength, 'CRYPTO frame');
  buf[p++] = FrameType.Crypto;
  p = writeVarint(buf, p, offset);
  return writeVarint(buf, p, dataLength);
}

/** Size of a DATAGRAM frame header (type, Length if explicit). */
export function datagramFrameHeaderLength(dataLength: number, explicitLength: boolean): number {
  return 1 + (explicitLength ? varintLength(dataLength) : 0);
}

/** Writes a DATAGRAM frame header (0x31 with a Length, 0x30 without); the caller writes the data after it. */
export function writeDatagramFrameHeader(buf: Uint8Array, p: number, dataLength: number, explicitLength: boolean): number {
  checkRoom(buf, p, datagramFrameHeaderLength(dataLength, explicitLength) + dataLength, 'DATAGRAM frame');
  buf[p++] = explicitLength ? FrameType.DatagramWithLength : FrameType.Datagram;
  return explicitLength ? writeVarint(buf, p, dataLength) : p;
}

// ---------------------------------------------------------------------------------------------
// ACK

function badRanges(ranges: readonly number[], i: number, why: string): RangeError {
  return new RangeError(`ACK ranges [${ranges.slice(0, 8).join(', ')}${ranges.length > 8 ? ', …' : ''}]: pair ${i >> 1} ${why}`);
}

/**
 * Size of an ACK frame for `ranges` (flat [largest, smallest] pairs, highest first, as in
 * `AckFrame.ranges`). Validates the ranges (RangeError if not descending, disjoint and
 * separated by at least one missing packet).
 */
export function ackFrameLength(ranges: readonly number[], ackDelay: number, ecn: EcnCounts | null): number {
  const n = ranges.length;
  if (n < 2 || (n & 1) !== 0) throw new RangeError(`ACK ranges need a non-empty even length, got ${n}`);
  let size = 1 + varintLength(ranges[0]!) + varintLength(ackDelay) + varintLength((n >> 1) - 1);
  let prevSmallest = 0;
  for (let i = 0; i < n; i += 2) {
    const high = ranges[i]!;
    const low = ranges[i + 1]!;
    if (!(low >= 0 && high >= low)) throw badRanges(ranges, i, `has largest ${high} below smallest ${low} or a negative bound`);
    if (i === 0) {
      size += varintLength(high - low);
    } else {
      if (high > prevSmallest - 2) throw badRanges(ranges, i, `is not below the previous range with a gap`);
      size += varintLength(prevSmallest - high - 2) + varintLength(high - low);
    }
    prevSmallest = low;
  }
  if (ecn !== null) size += varintLength(ecn.ect0) + varintLength(ecn.ect1) + varintLength(ecn.ce);
  return size;
}

/**
 * Writes an ACK frame (ACK_ECN when `ecn` is given) acknowledging `ranges` (flat
 * [largest, smallest] pairs, highest first) with the encoded `ackDelay` (already scaled down
 * by our ack_delay_exponent).
 */
export function writeAckFrame(
  buf: Uint8Array,
  p: number,
  ranges: readonly number[],
  ackDelay: number,
  ecn: EcnCounts | null,
): number {
  checkRoom(buf, p, ackFrameLength(ranges, ackDelay, ecn), 'ACK frame');
  const n = ranges.length;
  buf[p++] = ecn !== null ? FrameType.AckEcn : FrameType.Ack;
  p = writeVarint(buf, p, ranges[0]!);
  p = writeVarint(buf, p, ackDelay);
  p = writeVarint(buf, p, (n >> 1) - 1);
  p = writeVarint(buf, p, ranges[0]! - ranges[1]!);
  for (let i = 2; i < n; i += 2) {
    p = writeVarint(buf, p, ranges[i - 1]! - ranges[i]! - 2);
    p = writeVarint(buf, p, ranges[i]! - ranges[i + 1]!);
  }
  if (ecn !== null) {
    p = writeVarint(buf, p, ecn.ect0);
    p = writeVarint(buf, p, ecn.ect1);
    p = writeVarint(buf, p, ecn.ce);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Any frame

/** Encoded size of `frame`. Throws RangeError/TypeError on a frame that cannot be encoded. */
export function frameLength(frame: Frame): number {
  switch (frame.type) {
    case FrameType.Padding:
      if (!Number.isSafeInteger(frame.length) || frame.length < 1) throw new RangeError(`PADDING length ${frame.length} is not a positive integer`);
      return frame.length;
    case FrameType.Ping:
    case FrameType.HandshakeDone:
      return 1;
    case FrameType.Ack:
    case FrameType.AckEcn:
      if (frame.ranges[0] !== frame.largestAcknowledged) {
        throw new RangeError(`ACK largestAcknowledged ${frame.largestAcknowledged} differs from ranges[0] ${String(frame.ranges[0])}`);
      }
      return ackFrameLength(frame.ranges, frame.ackDelay, frame.type === FrameType.AckEcn ? frame : null);
    case FrameType.ResetStream:
      return 1 + varintLength(frame.streamId) + varintLengthBig(frame.errorCode) + varintLength(frame.finalSize);
    case FrameType.StopSending:
      return 1 + varintLength(frame.streamId) + varintLengthBig(frame.errorCode);
    case FrameType.Crypto:
      return cryptoFrameHeaderLength(frame.offset, frame.data.length) + frame.data.length;
    case FrameType.NewToken:
      if (frame.token.length === 0) throw new RangeError('NEW_TOKEN token must not be empty');
      return 1 + varintLength(frame.token.length) + frame.token.length;
    case FrameType.Stream:
      return streamFrameHeaderLength(frame.streamId, frame.offset, frame.data.length, frame.explicitLength) + frame.data.length;
    case FrameType.MaxData:
    case FrameType.DataBlocked:
      return 1 + varintLength(frame.maximumData);
    case FrameType.MaxStreamData:
    case FrameType.StreamDataBlocked:
      return 1 + varintLength(frame.streamId) + varintLength(frame.maximumStreamData);
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      // Any safe integer is below the 2^60 limit, so the varint check suffices.
      return 1 + varintLength(frame.maximumStreams);
    case FrameType.NewConnectionId:
      checkBytes('NEW_CONNECTION_ID connection ID', frame.connectionId, 1, MAX_CONNECTION_ID_LENGTH);
      checkBytes('NEW_CONNECTION_ID stateless reset token', frame.statelessResetToken, STATELESS_RESET_TOKEN_LENGTH, STATELESS_RESET_TOKEN_LENGTH);
      if (frame.retirePriorTo > frame.sequenceNumber) {
        throw new RangeError(`NEW_CONNECTION_ID retirePriorTo ${frame.retirePriorTo} exceeds sequenceNumber ${frame.sequenceNumber}`);
      }
      return (
        1 +
        varintLength(frame.sequenceNumber) +
        varintLength(frame.retirePriorTo) +
        1 +
        frame.connectionId.length +
        STATELESS_RESET_TOKEN_LENGTH
      );
    case FrameType.RetireConnectionId:
      return 1 + varintLength(frame.sequenceNumber);
    case FrameType.PathChallenge:
    case FrameType.PathResponse:
      checkBytes('path validation data', frame.data, PATH_DATA_LENGTH, PATH_DATA_LENGTH);
      return 1 + PATH_DATA_LENGTH;
    case FrameType.ConnectionClose:
      return (
        1 +
        varintLengthBig(frame.errorCode) +
        varintLength(frame.frameType) +
        varintLength(frame.reason.length) +
        frame.reason.length
      );
    case FrameType.ApplicationClose:
      return 1 + varintLengthBig(frame.errorCode) + varintLength(frame.reason.length) + frame.reason.length;
    case FrameType.Datagram:
      return datagramFrameHeaderLength(frame.data.length, frame.explicitLength) + frame.data.length;
    default:
      throw new TypeError(`cannot encode a frame of type ${String((frame as { type: unknown }).type)}`);
  }
}

/**
 * Writes `frame` at `offset` in `buf`; returns the offset after it. Throws RangeError if the
 * buffer is too small or the frame is invalid (nothing is written then).
 */
export function encodeFrame(frame: Frame, buf: Uint8Array, offset: number): number {
  checkRoom(buf, offset, frameLength(frame), 'frame');
  let p = offset;
  switch (frame.type) {
    case FrameType.Padding:
      buf.fill(0, p, p + frame.length);
      return p + frame.length;
    case FrameType.Ping:
    case FrameType.HandshakeDone:
      buf[p] = frame.type;
      return p + 1;
    case FrameType.Ack:
    case FrameType.AckEcn:
      return writeAckFrame(buf, p, frame.ranges, frame.ackDelay, frame.type === FrameType.AckEcn ? frame : null);
    case FrameType.ResetStream:
      buf[p++] = frame.type;
      p = writeVarint(buf, p, frame.streamId);
      p = writeVarintBig(buf, p, frame.errorCode);
      return writeVarint(buf, p, frame.finalSize);
    case FrameType.StopSending:
      buf[p++] = frame.type;
      p = writeVarint(buf, p, frame.streamId);
      return writeVarintBig(buf, p, frame.errorCode);
    case FrameType.Crypto:
      p = writeCryptoFrameHeader(buf, p, frame.offset, frame.data.length);
      buf.set(frame.data, p);
      return p + frame.data.length;
    case FrameType.NewToken:
      buf[p++] = frame.type;
      p = writeVarint(buf, p, frame.token.length);
      buf.set(frame.token, p);
      return p + frame.token.length;
    case FrameType.Stream:
      p = writeStreamFrameHeader(buf, p, frame.streamId, frame.offset, frame.data.length, frame.fin, frame.explicitLength);
      buf.set(frame.data, p);
      return p + frame.data.length;
    case FrameType.MaxData:
    case FrameType.DataBlocked:
      buf[p++] = frame.type;
      return writeVarint(buf, p, frame.maximumData);
    case FrameType.MaxStreamData:
    case FrameType.StreamDataBlocked:
      buf[p++] = frame.type;
      p = writeVarint(buf, p, frame.streamId);
      return writeVarint(buf, p, frame.maximumStreamData);
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      buf[p++] = frame.type;
      return writeVarint(buf, p, frame.maximumStreams);
    case FrameType.NewConnectionId:
      buf[p++] = frame.type;
      p = writeVarint(buf, p, frame.sequenceNumber);
      p = writeVarint(buf, p, frame.retirePriorTo);
      buf[p++] = frame.connectionId.length;
      buf.set(frame.connectionId, p);
      p += frame.connectionId.length;
      buf.set(frame.statelessResetToken, p);
      return p + STATELESS_RESET_TOKEN_LENGTH;
    case FrameType.RetireConnectionId:
      buf[p++] = frame.type;
      return writeVarint(buf, p, frame.sequenceNumber);
    case FrameType.PathChallenge:
    case FrameType.PathResponse:
      buf[p++] = frame.type;
      buf.set(frame.data, p);
      return p + PATH_DATA_LENGTH;
    case FrameType.ConnectionClose:
      buf[p++] = frame.type;
      p = writeVarintBig(buf, p, frame.errorCode);
      p = writeVarint(buf, p, frame.frameType);
      p = writeVarint(buf, p, frame.reason.length);
      buf.set(frame.reason, p);
      return p + frame.reason.length;
    case FrameType.ApplicationClose:
      buf[p++] = frame.type;
      p = writeVarintBig(buf, p, frame.errorCode);
      p = writeVarint(buf, p, frame.reason.length);
      buf.set(frame.reason, p);
      return p + frame.reason.length;
    case FrameType.Datagram:
      p = writeDatagramFrameHeader(buf, p, frame.data.length, frame.explicitLength);
      buf.set(frame.data, p);
      return p + frame.data.length;
  }
}

/** Encodes one frame into a new array (convenience for tests and cold paths). */
export function encodeFrameToBytes(frame: Frame): Uint8Array {
  const out = new Uint8Array(frameLength(frame));
  encodeFrame(frame, out, 0);
  return out;
}
