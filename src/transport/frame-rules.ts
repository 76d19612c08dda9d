/**
 * Which frames may appear where (RFC 9000 §12.4 Table 3, §12.5, §17.2.3; RFC 9221 §4), and the
 * per-type properties loss recovery needs (ack-eliciting, probing).
 *
 * 0-RTT: besides the frames Table 3 already excludes (ACK, CRYPTO, NEW_TOKEN, PATH_RESPONSE,
 * HANDSHAKE_DONE), RETIRE_CONNECTION_ID is refused too: §12.5 lists it among the frames that
 * cannot be sent in 0-RTT and lets a server treat them as PROTOCOL_VIOLATION, which we do.
 */

import { QuicError, TransportError } from './errors.js';
import { FrameType, frameTypeName } from './frame-types.js';
import { PacketType } from './packet.js';
import type { Role } from './role.js';

const I = 1; // Initial
const H = 2; // Handshake
const Z = 4; // 0-RTT
const O = 8; // 1-RTT

/** Allowed packet types per frame type 0x00–0x1e (bit set above). */
const ALLOWED: readonly number[] = [
  I | H | Z | O, // 0x00 PADDING
  I | H | Z | O, // 0x01 PING
  I | H | O, // 0x02 ACK
  I | H | O, // 0x03 ACK_ECN
  Z | O, // 0x04 RESET_STREAM
  Z | O, // 0x05 STOP_SENDING
  I | H | O, // 0x06 CRYPTO
  O, // 0x07 NEW_TOKEN
  Z | O, Z | O, Z | O, Z | O, Z | O, Z | O, Z | O, Z | O, // 0x08–0x0f STREAM
  Z | O, // 0x10 MAX_DATA
  Z | O, // 0x11 MAX_STREAM_DATA
  Z | O, // 0x12 MAX_STREAMS (bidi)
  Z | O, // 0x13 MAX_STREAMS (uni)
  Z | O, // 0x14 DATA_BLOCKED
  Z | O, // 0x15 STREAM_DATA_BLOCKED
  Z | O, // 0x16 STREAMS_BLOCKED (bidi)
  Z | O, // 0x17 STREAMS_BLOCKED (uni)
  Z | O, // 0x18 NEW_CONNECTION_ID
  O, // 0x19 RETIRE_CONNECTION_ID (§12.5: impossible in 0-RTT)
  Z | O, // 0x1a PATH_CHALLENGE
  O, // 0x1b PATH_RESPONSE
  I | H | Z | O, // 0x1c CONNECTION_CLOSE (transport)
  Z | O, // 0x1d CONNECTION_CLOSE (application)
  O, // 0x1e HANDSHAKE_DONE
];
const DATAGRAM_ALLOWED = Z | O; // 0x30, 0x31 (RFC 9221 §4)

function packetBit(packetType: PacketType): number {
  switch (packetType) {
    case PacketType.Initial:
      return I;
    case PacketType.Handshake:
      return H;
    case PacketType.ZeroRtt:
      return Z;
    case PacketType.OneRtt:
      return O;
    default:
      throw new RangeError(`packet type ${packetType} does not carry frames`);
  }
}

const PACKET_NAMES = ['Initial', '0-RTT', 'Handshake', 'Retry', '1-RTT', 'Version Negotiation', 'unknown-version'];

function allowedMask(frameType: number): number {
  if (frameType >= 0 && frameType < ALLOWED.length) return ALLOWED[frameType]!;
  if (frameType === FrameType.Datagram || frameType === FrameType.DatagramWithLength) return DATAGRAM_ALLOWED;
  return -1;
}

/**
 * Whether a frame of wire type `frameType` may be received in a packet of `packetType`
 * (Initial, 0-RTT, Handshake or 1-RTT) by an endpoint of `receiverRole` (role checks are
 * skipped when it is omitted). Unknown frame types are not allowed anywhere.
 */
export function isFrameAllowed(frameType: number, packetType: PacketType, receiverRole?: Role): boolean {
  const mask = allowedMask(frameType);
  if (mask < 0 || (mask & packetBit(packetType)) === 0) return false;
  return !(receiverRole === 'server' && (frameType === FrameType.NewToken || frameType === FrameType.HandshakeDone));
}

/**
 * Throws the QuicError RFC 9000 requires when a frame of wire type `frameType` arrives in a
 * packet of `packetType`: PROTOCOL_VIOLATION for a frame not permitted in that packet type
 * (§12.4) or sent by the wrong role (a server receiving NEW_TOKEN §19.7 or HANDSHAKE_DONE
 * §19.20), FRAME_ENCODING_ERROR for an unknown frame type. The error carries the frame type.
 */
export function assertFrameAllowed(frameType: number, packetType: PacketType, receiverRole?: Role): void {
  const mask = allowedMask(frameType);
  if (mask < 0) {
    throw new QuicError(TransportError.FRAME_ENCODING_ERROR, `unknown frame type 0x${frameType.toString(16)}`, frameType);
  }
  if ((mask & packetBit(packetType)) === 0) {
    throw new QuicError(
      TransportError.PROTOCOL_VIOLATION,
      `${frameTypeName(frameType)} frame is not allowed in ${PACKET_NAMES[packetType]} packets`,
      frameType,
    );
  }
  if (receiverRole === 'server' && (frameType === FrameType.NewToken || frameType === FrameType.HandshakeDone)) {
    throw new QuicError(TransportError.PROTOCOL_VIOLATION, `a client sent ${frameTypeName(frameType)}`, frameType);
  }
}

/** RFC 9000 §12.4: a packet whose payload holds no frame is a PROTOCOL_VIOLATION. */
export function assertPayloadNotEmpty(payloadLength: number): void {
  if (payloadLength === 0) throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'packet payload contains no frames');
}

/** Ack-eliciting frames: all but ACK, PADDING and CONNECTION_CLOSE (RFC 9002 §2). */
export function isAckEliciting(frameType: number): boolean {
  return !(
    frameType === FrameType.Padding ||
    frameType === FrameType.Ack ||
    frameType === FrameType.AckEcn ||
    frameType === FrameType.ConnectionClose ||
    frameType === FrameType.ApplicationClose
  );
}

/** Probing frames (RFC 9000 §9.1, Table 3 "P"): PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID, PADDING. */
export function isProbingFrame(frameType: number): boolean {
  return (
    frameType === FrameType.PathChallenge ||
    frameType === FrameType.PathResponse ||
    frameType === FrameType.NewConnectionId ||
    frameType === FrameType.Padding
  );
}
