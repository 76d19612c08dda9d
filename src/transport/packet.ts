/**
 * QUIC packet headers (RFC 9000 §17, RFC 8999 invariants, RFC 9369 for v2 type bits): parsing
 * the part of each packet that is readable before header protection is removed.
 *
 * One datagram may hold several coalesced long-header packets (each ends where its Length
 * field says) followed by at most one short-header packet (which runs to the end of the
 * datagram). Parse them in a loop, reusing one `PacketHeader`:
 *
 * ```ts
 * const h = new PacketHeader();
 * for (let off = 0; off < datagram.length; off = h.end) {
 *   const status = parsePacketHeader(datagram, off, localCidLength, h);
 *   if (status !== HeaderStatus.Ok) break; // discard the rest of the datagram
 *   // … remove header protection at h.pnOffset, decrypt h.start..h.end …
 * }
 * ```
 *
 * Parsing never throws and never allocates: malformed input yields a status, because the RFC
 * says to discard such packets rather than close the connection. Views of the connection IDs
 * and token are created only when their getters are read.
 */

import { QuicError, TransportError } from './errors.js';
import { readVarintAt, varintLengthFromFirstByte } from './varint.js';
import { versionParameters } from './version.js';

/** Packet types. The first four equal `LongPacketType` from version.ts. */
export const PacketType = {
  Initial: 0,
  ZeroRtt: 1,
  Handshake: 2,
  Retry: 3,
  /** Short header (1-RTT). */
  OneRtt: 4,
  /** Long header with version 0. */
  VersionNegotiation: 5,
  /** Long header of a version this stack does not speak: only the RFC 8999 invariants are parsed. */
  UnknownVersion: 6,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** Outcome of `parsePacketHeader`. Anything but `Ok` means: discard (RFC 9000 §5.2, §17). */
export const HeaderStatus = {
  Ok: 0,
  /** The datagram ends inside the header, or the Length field runs past the datagram. */
  Truncated: 1,
  /** A v1/v2 long header carries a connection ID longer than 20 bytes (RFC 9000 §17.2). */
  ConnectionIdTooLong: 2,
  /**
   * The fixed bit (0x40) is 0 and the caller did not accept that (RFC 9000 §17.2, §17.3.1;
   * RFC 9287 lets a peer that advertised grease_quic_bit accept it). The header is otherwise
   * fully parsed, so `end` is valid and the caller can skip to the next coalesced packet.
   */
  FixedBitZero: 3,
  /** A Version Negotiation packet whose version list is not a whole number of 4-byte versions. */
  BadVersionList: 4,
  /** A Retry packet too short to hold its 16-byte integrity tag. */
  RetryTooShort: 5,
} as const;
export type HeaderStatus = (typeof HeaderStatus)[keyof typeof HeaderStatus];

/** Largest connection ID in QUIC v1 and v2 (RFC 9000 §17.2). */
export const MAX_CONNECTION_ID_LENGTH = 20;
/** Length of the Retry Integrity Tag (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** Header form bit of the first byte (1 = long header). */
export const HEADER_FORM_BIT = 0x80;
/** The fixed bit ("QUIC bit") of the first byte. */
export const FIXED_BIT = 0x40;
/** Reserved bits of a long header's first byte, protected by header protection. */
export const LONG_RESERVED_BITS = 0x0c;
/** Reserved bits of a short header's first byte, protected by header protection. */
export const SHORT_RESERVED_BITS = 0x18;
/** Spin bit of a short header (not protected). */
export const SPIN_BIT = 0x20;
/** Key phase bit of a short header (protected). */
export const KEY_PHASE_BIT = 0x04;
/** Packet number length bits (value + 1 = length), protected. */
export const PN_LENGTH_BITS = 0x03;

const EMPTY = new Uint8Array(0);

/**
 * The invariant, unprotected part of one packet: offsets into the datagram it was parsed from.
 * Reused across packets by `parsePacketHeader`; read what you need before parsing the next.
 */
export class PacketHeader {
  /** The datagram this header was parsed from. */
  buffer: Uint8Array = EMPTY;
  type: PacketType = PacketType.OneRtt;
  /** First byte as received (its low bits are still header-protected). */
  firstByte = 0;
  /** Version field; 0 for a short header and for Version Negotiation. */
  version = 0;
  /** Offset of the first byte of the packet. */
  start = 0;
  dcidOffset = 0;
  dcidLength = 0;
  /** Source connection ID (long headers only; 0 length otherwise). */
  scidOffset = 0;
  scidLength = 0;
  /** Initial: the Token field. Retry: the Retry Token. Empty otherwise. */
  tokenOffset = 0;
  tokenLength = 0;
  /**
   * Offset of the (protected) packet number: after the Length field for Initial, 0-RTT and
   * Handshake; after the DCID for 1-RTT. For Retry, Version Negotiation and unknown versions it
   * is where the type-specific remainder starts (Retry token, version list, opaque bytes).
   */
  pnOffset = 0;
  /**
   * One past the last byte of this packet: `pnOffset + Length` for Initial, 0-RTT and Handshake;
   * the end of the datagram for every other type. It is also where the next coalesced packet starts.
   * `end - pnOffset` can be anything from 0: header protection must check there is room for its sample.
   */
  end = 0;

  /** True for long headers (including Version Negotiation and unknown versions). */
  get isLongHeader(): boolean {
    return (this.firstByte & HEADER_FORM_BIT) !== 0;
  }

  /** The fixed bit as received (RFC 9287 allows a greasing peer to send 0). */
  get fixedBit(): boolean {
    return (this.firstByte & FIXED_BIT) !== 0;
  }

  /** Destination connection ID (a view of the datagram). */
  get dcid(): Uint8Array {
    return this.buffer.subarray(this.dcidOffset, this.dcidOffset + this.dcidLength);
  }

  /** Source connection ID (a view; empty for short headers). */
  get scid(): Uint8Array {
    return this.buffer.subarray(this.scidOffset, this.scidOffset + this.scidLength);
  }

  /** Initial token or Retry token (a view; empty for other types). */
  get token(): Uint8Array {
    return this.buffer.subarray(this.tokenOffset, this.tokenOffset + this.tokenLength);
  }

  /** The whole packet (a view). */
  get packet(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /** Retry Integrity Tag (a view; empty unless this is a Retry). */
  get retryIntegrityTag(): Uint8Array {
    if (this.type !== PacketType.Retry) return EMPTY;
    return this.buffer.subarray(this.end - RETRY_INTEGRITY_TAG_LENGTH, this.end);
  }

  /** Number of versions listed in a Version Negotiation packet (0 for other types). */
  get versionCount(): number {
    return this.type === PacketType.VersionNegotiation ? (this.end - this.pnOffset) >> 2 : 0;
  }

  /** The `index`-th version listed in a Version Negotiation packet. */
  supportedVersion(index: number): number {
    if (!(index >= 0 && index < this.versionCount)) {
      throw new RangeError(`version index ${index} is outside 0..${this.versionCount - 1}`);
    }
    const p = this.pnOffset + 4 * index;
    const b = this.buffer;
    return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** All versions listed in a Version Negotiation packet (allocates; not for hot paths). */
  get supportedVersions(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.versionCount; i++) out.push(this.supportedVersion(i));
    return out;
  }
}

function readU32(b: Uint8Array, p: number): number {
  return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/**
 * Parses the header of the packet starting at `offset` in `datagram` into `out`.
 *
 * @param shortHeaderDcidLength the length of our connection IDs: a short header does not carry it.
 * @param acceptZeroFixedBit accept a fixed bit of 0 (only after advertising grease_quic_bit, RFC 9287).
 * @returns `HeaderStatus.Ok` or why the packet must be discarded. On `Truncated`, `out.end` is
 *   the end of the datagram; on `FixedBitZero`, `out` is fully parsed.
 */
export function parsePacketHeader(
  datagram: Uint8Array,
  offset: number,
  shortHeaderDcidLength: number,
  out: PacketHeader,
  acceptZeroFixedBit = false,
): HeaderStatus {
  const end = datagram.length;
  out.buffer = datagram;
  out.start = offset;
  out.end = end;
  out.version = 0;
  out.scidOffset = out.scidLength = 0;
  out.tokenOffset = out.tokenLength = 0;
  if (offset >= end) {
    out.dcidOffset = out.dcidLength = 0;
    out.pnOffset = end;
    out.firstByte = 0;
    return HeaderStatus.Truncated;
  }
  const first = datagram[offset]!;
  out.firstByte = first;

  if ((first & HEADER_FORM_BIT) === 0) {
    out.type = PacketType.OneRtt;
    out.dcidOffset = offset + 1;
    out.dcidLength = shortHeaderDcidLength;
    out.pnOffset = offset + 1 + shortHeaderDcidLength;
    out.tokenOffset = out.scidOffset = out.pnOffset;
    if (out.pnOffset >= end) return HeaderStatus.Truncated;
    return (first & FIXED_BIT) !== 0 || acceptZeroFixedBit ? HeaderStatus.Ok : HeaderStatus.FixedBitZero;
  }

  // Long header invariants (RFC 8999 §5.1): version, DCID, SCID.
  let p = offset + 1;
  if (p + 5 > end) {
    out.type = PacketType.UnknownVersion;
    out.dcidOffset = out.pnOffset = end;
    out.dcidLength = 0;
    return HeaderStatus.Truncated;
  }
  const version = readU32(datagram, p);
  out.version = version;
  p += 4;
  const dcidLength = datagram[p++]!;
  out.dcidOffset = p;
  out.dcidLength = dcidLength;
  p += dcidLength;
  if (p + 1 > end) {
    out.dcidLength = Math.max(0, Math.min(dcidLength, end - out.dcidOffset));
    out.pnOffset = end;
    out.type = version === 0 ? PacketType.VersionNegotiation : PacketType.UnknownVersion;
    return HeaderStatus.Truncated;
  }
  const scidLength = datagram[p++]!;
  out.scidOffset = p;
  out.scidLength = scidLength;
  p += scidLength;
  out.tokenOffset = p;
  if (p > end) {
    out.scidLength = end - out.scidOffset;
    out.tokenOffset = out.pnOffset = end;
    out.type = version === 0 ? PacketType.VersionNegotiation : PacketType.UnknownVersion;
    return HeaderStatus.Truncated;
  }

  if (version === 0) {
    out.type = PacketType.VersionNegotiation;
    out.pnOffset = p;
    return ((end - p) & 3) === 0 ? HeaderStatus.Ok : HeaderStatus.BadVersionList;
  }
  const params = versionParameters(version);
  if (params === undefined) {
    out.type = PacketType.UnknownVersion;
    out.pnOffset = p;
    return HeaderStatus.Ok;
  }

  const type = params.bitsToType[(first >> 4) & 3]!;
  out.type = type;
  const tooLong = dcidLength > MAX_CONNECTION_ID_LENGTH || scidLength > MAX_CONNECTION_ID_LENGTH;

  if (type === PacketType.Retry) {
    out.pnOffset = p;
    if (end - p < RETRY_INTEGRITY_TAG_LENGTH) return HeaderStatus.RetryTooShort;
    out.tokenLength = end - p - RETRY_INTEGRITY_TAG_LENGTH;
    if (tooLong) return HeaderStatus.ConnectionIdTooLong;
    return (first & FIXED_BIT) !== 0 || acceptZeroFixedBit ? HeaderStatus.Ok : HeaderStatus.FixedBitZero;
  }

  if (type === PacketType.Initial) {
    const tokenLength = readVarintAt(datagram, p, end);
    if (tokenLength < 0) {
      out.pnOffset = end;
      return HeaderStatus.Truncated;
    }
    p += varintLengthFromFirstByte(datagram[p]!);
    out.tokenOffset = p;
    if (tokenLength > end - p) {
      out.tokenLength = end - p;
      out.pnOffset = end;
      return HeaderStatus.Truncated;
    }
    out.tokenLength = tokenLength;
    p += tokenLength;
  }

  const length = readVarintAt(datagram, p, end);
  if (length < 0) {
    out.pnOffset = end;
    return HeaderStatus.Truncated;
  }
  p += varintLengthFromFirstByte(datagram[p]!);
  out.pnOffset = p;
  if (length > end - p) return HeaderStatus.Truncated;
  out.end = p + length;
  if (tooLong) return HeaderStatus.ConnectionIdTooLong;
  return (first & FIXED_BIT) !== 0 || acceptZeroFixedBit ? HeaderStatus.Ok : HeaderStatus.FixedBitZero;
}

/** Packet number length (1–4) from a first byte whose header protection has been removed. */
export function packetNumberLengthOf(firstByte: number): 1 | 2 | 3 | 4 {
  return ((firstByte & PN_LENGTH_BITS) + 1) as 1 | 2 | 3 | 4;
}

/** Key phase (0 or 1) of an unprotected short-header first byte. */
export function keyPhaseOf(firstByte: number): 0 | 1 {
  return (firstByte & KEY_PHASE_BIT) !== 0 ? 1 : 0;
}

/**
 * RFC 9000 §17.2 and §17.3.1: once both packet and header protection are removed, the reserved
 * bits (0x0c in a long header, 0x18 in a short header) must be 0. Call it only after the AEAD
 * has authenticated the packet, so forged packets cannot close the connection.
 * Throws QuicError PROTOCOL_VIOLATION otherwise.
 */
export function assertReservedBitsZero(firstByte: number): void {
  const bits = (firstByte & HEADER_FORM_BIT) !== 0 ? firstByte & LONG_RESERVED_BITS : firstByte & SHORT_RESERVED_BITS;
  if (bits !== 0) {
    throw new QuicError(
      TransportError.PROTOCOL_VIOLATION,
      `reserved header bits are 0x${bits.toString(16)}, not 0, after removing protection`,
    );
  }
}
