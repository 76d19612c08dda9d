/**
 * Writing packet headers into a caller's buffer (RFC 9000 §17, RFC 9369 §3.2 for v2 type bits).
 * The first byte is written in the clear; header protection is applied later by the packet
 * protection code. Long headers get a 2-byte Length placeholder that the packet builder patches
 * with `patchLongHeaderLength` once the payload size is known:
 *
 * ```ts
 * const pnOffset = writeLongHeader(buf, 0, PacketType.Initial, QUIC_V1, dcid, scid, token, 2);
 * let p = writePacketNumber(buf, pnOffset, pn, 2);
 * p = writeFrames(buf, p);                       // payload
 * patchLongHeaderLength(buf, pnOffset - LENGTH_PLACEHOLDER_SIZE, p + tagLength - pnOffset);
 * ```
 */

import {
  FIXED_BIT,
  HEADER_FORM_BIT,
  KEY_PHASE_BIT,
  MAX_CONNECTION_ID_LENGTH,
  PacketType,
  RETRY_INTEGRITY_TAG_LENGTH,
  SPIN_BIT,
} from './packet.js';
import { writeVarint, writeVarintWithLength, varintLength } from './varint.js';
import { versionParameters } from './version.js';

/** Size of the Length field placeholder written by `writeLongHeader` (a 2-byte varint). */
export const LENGTH_PLACEHOLDER_SIZE = 2;
/** Largest Length a 2-byte placeholder can hold. */
export const MAX_PLACEHOLDER_LENGTH = 0x3fff;

/** An empty token, for Initial packets without one. */
export const NO_TOKEN: Uint8Array = new Uint8Array(0);

function checkCid(name: string, cid: Uint8Array, max: number): void {
  if (cid.length > max) throw new RangeError(`${name} is ${cid.length} bytes, more than ${max}`);
}

function checkRoom(buf: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || offset + size > buf.length) {
    throw new RangeError(`${what} of ${size} bytes at offset ${offset} does not fit in a buffer of ${buf.length} bytes`);
  }
}

function writeU32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = v >>> 24;
  buf[p + 1] = (v >>> 16) & 0xff;
  buf[p + 2] = (v >>> 8) & 0xff;
  buf[p + 3] = v & 0xff;
}

/** The part every long-header packet starts with: first byte, version, DCID and SCID with their lengths. */
function writeLongPrefix(buf: Uint8Array, offset: number, first: number, version: number, dcid: Uint8Array, scid: Uint8Array): number {
  let p = offset;
  buf[p++] = first;
  writeU32(buf, p, version);
  p += 4;
  buf[p++] = dcid.length;
  buf.set(dcid, p);
  p += dcid.length;
  buf[p++] = scid.length;
  buf.set(scid, p);
  return p + scid.length;
}

function wireTypeBits(type: PacketType, version: number): number {
  const params = versionParameters(version);
  if (params === undefined) throw new RangeError(`version 0x${(version >>> 0).toString(16)} is not supported`);
  if (type > PacketType.Retry) throw new RangeError(`packet type ${type} has no long header of its own`);
  return params.typeToBits[type as 0 | 1 | 2 | 3];
}

/**
 * Bytes `writeLongHeader` writes for these field sizes (up to and including the Length
 * placeholder, not the packet number).
 */
export function longHeaderLength(dcidLength: number, scidLength: number, tokenLength: number, isInitial: boolean): number {
  return 7 + dcidLength + scidLength + (isInitial ? varintLength(tokenLength) + tokenLength : 0) + LENGTH_PLACEHOLDER_SIZE;
}

/**
 * Writes an Initial, 0-RTT or Handshake long header at `offset`: first byte (fixed bit set,
 * reserved bits 0, packet-number length bits for `pnLength`), version, DCID, SCID, the token
 * (Initial only) and a 2-byte Length placeholder. Returns the packet-number offset; the
 * placeholder sits just before it. Throws RangeError on a bad argument or a short buffer.
 */
export function writeLongHeader(
  buf: Uint8Array,
  offset: number,
  type: PacketType,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  pnLength: number,
): number {
  if (type !== PacketType.Initial && type !== PacketType.ZeroRtt && type !== PacketType.Handshake) {
    throw new RangeError(`packet type ${type} is not Initial, 0-RTT or Handshake`);
  }
  if (type !== PacketType.Initial && token.length !== 0) {
    throw new RangeError(`only Initial packets carry a token (type ${type}, token of ${token.length} bytes)`);
  }
  if (!(pnLength >= 1 && pnLength <= 4) || !Number.isInteger(pnLength)) {
    throw new RangeError(`packet number length ${pnLength} is not 1..4`);
  }
  checkCid('destination connection ID', dcid, MAX_CONNECTION_ID_LENGTH);
  checkCid('source connection ID', scid, MAX_CONNECTION_ID_LENGTH);
  const bits = wireTypeBits(type, version);
  const isInitial = type === PacketType.Initial;
  checkRoom(buf, offset, longHeaderLength(dcid.length, scid.length, token.length, isInitial), 'long header');
  let p = writeLongPrefix(buf, offset, HEADER_FORM_BIT | FIXED_BIT | (bits << 4) | (pnLength - 1), version, dcid, scid);
  if (isInitial) {
    p = writeVarint(buf, p, token.length);
    buf.set(token, p);
    p += token.length;
  }
  buf[p] = 0x40; // 2-byte varint 0, patched later
  buf[p + 1] = 0;
  return p + LENGTH_PLACEHOLDER_SIZE;
}

/**
 * Fills in the Length placeholder at `lengthOffset` (= packet-number offset − 2) with
 * `length`: packet number + payload + AEAD tag bytes. Throws RangeError above 16383.
 */
export function patchLongHeaderLength(buf: Uint8Array, lengthOffset: number, length: number): void {
  if (length > MAX_PLACEHOLDER_LENGTH) {
    throw new RangeError(`packet length ${length} does not fit the 2-byte Length field (max ${MAX_PLACEHOLDER_LENGTH})`);
  }
  writeVarintWithLength(buf, lengthOffset, length, 2);
}

/**
 * Writes a short (1-RTT) header at `offset`: first byte (fixed bit, spin and key phase bits,
 * packet-number length bits) and the DCID. Returns the packet-number offset.
 */
export function writeShortHeader(
  buf: Uint8Array,
  offset: number,
  dcid: Uint8Array,
  pnLength: number,
  keyPhase: 0 | 1,
  spin: boolean,
): number {
  if (!(pnLength >= 1 && pnLength <= 4) || !Number.isInteger(pnLength)) {
    throw new RangeError(`packet number length ${pnLength} is not 1..4`);
  }
  checkCid('destination connection ID', dcid, MAX_CONNECTION_ID_LENGTH);
  checkRoom(buf, offset, 1 + dcid.length, 'short header');
  buf[offset] = FIXED_BIT | (spin ? SPIN_BIT : 0) | (keyPhase === 1 ? KEY_PHASE_BIT : 0) | (pnLength - 1);
  buf.set(dcid, offset + 1);
  return offset + 1 + dcid.length;
}

/**
 * Writes a Version Negotiation packet (RFC 9000 §17.2.1) at `offset`; returns its end.
 * `unusedBits` fills the 7 bits after the form bit (the sender picks them, RFC 8999 §6, e.g.
 * from its random source). The connection IDs echo the client's (swapped) and may be up to 255 bytes.
 */
export function writeVersionNegotiation(
  buf: Uint8Array,
  offset: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  unusedBits = 0,
): number {
  checkCid('destination connection ID', dcid, 255);
  checkCid('source connection ID', scid, 255);
  checkRoom(buf, offset, 7 + dcid.length + scid.length + 4 * versions.length, 'Version Negotiation packet');
  let p = writeLongPrefix(buf, offset, HEADER_FORM_BIT | (unusedBits & 0x7f), 0, dcid, scid);
  for (const v of versions) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`version ${v} is not a 32-bit unsigned integer`);
    writeU32(buf, p, v);
    p += 4;
  }
  return p;
}

/**
 * Writes a Retry packet (RFC 9000 §17.2.5) without its integrity tag at `offset`; returns the
 * offset where the 16-byte Retry Integrity Tag goes (computed over the pseudo-packet by the
 * packet protection code). `unusedBits` fills the low 4 bits of the first byte.
 */
export function writeRetry(
  buf: Uint8Array,
  offset: number,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  unusedBits = 0,
): number {
  checkCid('destination connection ID', dcid, MAX_CONNECTION_ID_LENGTH);
  checkCid('source connection ID', scid, MAX_CONNECTION_ID_LENGTH);
  const bits = wireTypeBits(PacketType.Retry, version);
  checkRoom(buf, offset, 7 + dcid.length + scid.length + token.length + RETRY_INTEGRITY_TAG_LENGTH, 'Retry packet');
  let p = writeLongPrefix(buf, offset, HEADER_FORM_BIT | FIXED_BIT | (bits << 4) | (unusedBits & 0x0f), version, dcid, scid);
  buf.set(token, p);
  return p + token.length;
}
