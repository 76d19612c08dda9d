/**
 * QUIC versions this stack speaks (RFC 9000 v1, RFC 9369 v2) and what differs between them:
 * the Initial salt, the HKDF labels for packet protection, the Retry integrity key/nonce,
 * and the encoding of the long-header packet type.
 */

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

/** Versions in our preference order. */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_V1, QUIC_V2];

export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/** RFC 9000 §15: versions of the form 0x?a?a?a?a are reserved to exercise version negotiation. */
export function isReservedVersion(version: number): boolean {
  return (version & 0x0f0f0f0f) === 0x0a0a0a0a;
}

/** Long-header packet types, independent of how a version encodes them on the wire. */
export const LongPacketType = {
  Initial: 0,
  ZeroRtt: 1,
  Handshake: 2,
  Retry: 3,
} as const;
export type LongPacketType = (typeof LongPacketType)[keyof typeof LongPacketType];

export interface VersionParameters {
  readonly version: number;
  readonly initialSalt: Uint8Array;
  /** HKDF-Expand-Label labels for packet protection (without the "tls13 " prefix). */
  readonly keyLabel: string;
  readonly ivLabel: string;
  readonly hpLabel: string;
  readonly keyUpdateLabel: string;
  readonly retryKey: Uint8Array;
  readonly retryNonce: Uint8Array;
  /** Wire bits (0..3) for each LongPacketType, indexed by LongPacketType. */
  readonly typeToBits: readonly [number, number, number, number];
  /** LongPacketType for each wire value (0..3), indexed by the wire bits. */
  readonly bitsToType: readonly [LongPacketType, LongPacketType, LongPacketType, LongPacketType];
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((b) => Number.parseInt(b, 16)));
}

const V1: VersionParameters = {
  version: QUIC_V1,
  initialSalt: hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
  keyUpdateLabel: 'quic ku',
  retryKey: hex('be0c690b9f66575a1d766b54e368c84e'),
  retryNonce: hex('461599d35d632bf2239825bb'),
  typeToBits: [0, 1, 2, 3],
  bitsToType: [0, 1, 2, 3],
};

const V2: VersionParameters = {
  version: QUIC_V2,
  initialSalt: hex('0dede3def700a6db819381be6e269dcbf9bd2ed9'),
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
  keyUpdateLabel: 'quicv2 ku',
  retryKey: hex('8fb4b01b56ac48e260fbcbcead7ccc92'),
  retryNonce: hex('d86969bc2d7c6d9990efb04a'),
  // RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
  typeToBits: [1, 2, 3, 0],
  bitsToType: [3, 0, 1, 2],
};

/** Parameters of a supported version, or undefined. */
export function versionParameters(version: number): VersionParameters | undefined {
  if (version === QUIC_V1) return V1;
  if (version === QUIC_V2) return V2;
  return undefined;
}
